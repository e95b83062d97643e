/**
 * Every endpoint the fake serves: method, whether it needs an access_token, handler. A group
 * of endpoints in its own handler file registers here with one `...GROUP_ROUTES` line.
 */
import { get, post, type Route } from './route.js'
import { customSend, customTyping, templateDelete, templateList, templateSend } from './handlers/messages.js'
import { menuAddConditional, menuCreate, menuDelConditional, menuDelete, menuGet, menuTryMatch } from './handlers/menu.js'
import { autoreplyInfo, consoleSelfMenuInfo } from './handlers/console.js'
import { mediaGet, mediaUpload } from './handlers/media.js'
import { getTicket, oauthAccessToken, oauthAuth, oauthAuthorize, oauthRefresh, oauthUserInfo } from './handlers/oauth.js'
import { qrcodeCreate, showQrcode } from './handlers/qrcode.js'
import { callbackIp, classicToken, clearQuota, stableToken } from './handlers/token.js'
import { MATERIAL_ROUTES } from './handlers/material.js'
import { DRAFT_ROUTES } from './handlers/drafts.js'
import { FREEPUBLISH_ROUTES } from './handlers/freepublish.js'
import { COMMENT_ROUTES } from './handlers/comments.js'
import { MASS_ROUTES } from './handlers/mass.js'
import { SUBSCRIBE_ROUTES } from './handlers/subscribe.js'
import { KF_ROUTES } from './handlers/kf.js'
import { EXTRA_ROUTES } from './handlers/extras.js'
import { tagBatchTagging, tagBatchUntagging, tagCreate, tagDelete, tagIdList, tagList, tagMembers, tagUpdate, userBatchInfo, userInfo, userList, userRemark } from './handlers/users.js'

export const ROUTES: Record<string, Route> = {
  '/cgi-bin/token': get(classicToken, false),
  '/cgi-bin/stable_token': post(stableToken, false),
  '/cgi-bin/clear_quota': post(clearQuota),
  '/cgi-bin/getcallbackip': get(callbackIp),
  '/cgi-bin/get_api_domain_ip': get(callbackIp),
  '/cgi-bin/message/custom/send': post(customSend),
  '/cgi-bin/message/custom/typing': post(customTyping),
  '/cgi-bin/message/template/send': post(templateSend),
  '/cgi-bin/template/get_all_private_template': get(templateList),
  '/cgi-bin/template/del_private_template': post(templateDelete),
  '/cgi-bin/menu/create': post(menuCreate),
  '/cgi-bin/menu/get': get(menuGet),
  '/cgi-bin/menu/delete': get(menuDelete),
  '/cgi-bin/menu/addconditional': post(menuAddConditional),
  '/cgi-bin/menu/delconditional': post(menuDelConditional),
  '/cgi-bin/menu/trymatch': post(menuTryMatch),
  '/cgi-bin/get_current_selfmenu_info': get(consoleSelfMenuInfo),
  '/cgi-bin/user/info': get(userInfo),
  '/cgi-bin/user/info/batchget': post(userBatchInfo),
  '/cgi-bin/user/get': get(userList),
  '/cgi-bin/user/info/updateremark': post(userRemark),
  '/cgi-bin/tags/create': post(tagCreate),
  '/cgi-bin/tags/get': get(tagList),
  '/cgi-bin/tags/update': post(tagUpdate),
  '/cgi-bin/tags/delete': post(tagDelete),
  '/cgi-bin/user/tag/get': post(tagMembers),
  '/cgi-bin/tags/members/batchtagging': post(tagBatchTagging),
  '/cgi-bin/tags/members/batchuntagging': post(tagBatchUntagging),
  '/cgi-bin/tags/getidlist': post(tagIdList),
  '/cgi-bin/media/upload': post(mediaUpload),
  '/cgi-bin/media/get': get(mediaGet),
  '/cgi-bin/qrcode/create': post(qrcodeCreate),
  '/cgi-bin/ticket/getticket': get(getTicket),
  '/sns/oauth2/access_token': get(oauthAccessToken, false),
  '/sns/oauth2/refresh_token': get(oauthRefresh, false),
  '/sns/userinfo': get(oauthUserInfo, false),
  '/sns/auth': get(oauthAuth, false),
  // the pages WeChat serves on other hosts (mp.weixin.qq.com, open.weixin.qq.com)
  '/cgi-bin/showqrcode': get(showQrcode, false),
  '/connect/oauth2/authorize': get(oauthAuthorize, false),
  // the console's own settings (replies without code): handlers/console.ts
  '/cgi-bin/get_current_autoreply_info': get(autoreplyInfo),
  ...MATERIAL_ROUTES,
  ...DRAFT_ROUTES,
  ...FREEPUBLISH_ROUTES,
  ...COMMENT_ROUTES,
  ...MASS_ROUTES,
  ...SUBSCRIBE_ROUTES,
  ...KF_ROUTES,
  ...EXTRA_ROUTES,
}
export type { Route } from './route.js'
