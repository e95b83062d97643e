/**
 * One rule's form: name, id, priority, on/off; the trigger and its fields; the reply (text,
 * media, news articles, music, one at random, all in order, or hand on to the code); time
 * windows and a cooldown. Every input carries the engine's path for its field
 * (`trigger.pattern`, `reply.replies[1].content`…), so a refusal from the server marks the very
 * field it names, with the CLI's message beside it.
 */
import { h, replace } from '../dom.js'
import { utf8Bytes } from '../format.js'
import { t, tMaybe, type StringKey } from '../i18n.js'
import {
  blankReply,
  blankTrigger,
  fieldFor,
  RULE_MESSAGE_TYPES,
  RULE_REPLY_TYPES,
  RULE_TRIGGER_TYPES,
  SINGLE_REPLY_TYPES,
  WEEKDAYS,
  type Draft,
  type RuleProblemView,
  type RuleReply,
  type RuleSingleReply,
  type RuleTrigger,
  type Weekday,
} from '../rules-model.js'

const TEXT_LIMIT = 2048
const MAX_PARTS = 5
const MAX_ARTICLES = 8
/** Monday first, as calendars in China show the week. */
const DAYS_SHOWN: readonly Weekday[] = [...WEEKDAYS.slice(1), WEEKDAYS[0]]

export interface RuleEditor {
  element: HTMLElement
  /** Marks the fields a refusal names and shows the CLI's message. */
  showProblems(message: string, problems: RuleProblemView[]): void
}

export function ruleEditor(o: { draft: Draft; isNew: boolean; onSave(draft: Draft): void; onCancel(): void; onDelete?: () => void }): RuleEditor {
  const draft = o.draft
  const fields = new Map<string, HTMLElement>()
  const body = h('div', { class: 'rule-fields' })
  const refusal = h('div', { class: 'refusal rule-refusal', role: 'alert' })
  let confirmDelete = false
  const deleteButton = o.onDelete === undefined ? null : h('button', { type: 'button', class: 'danger' }, t('rules.delete'))
  deleteButton?.addEventListener('click', () => {
    if (!confirmDelete) {
      confirmDelete = true
      deleteButton.textContent = t('rules.confirmDelete')
      return
    }
    o.onDelete!()
  })
  const element = h(
    'form',
    { class: 'rule-editor', novalidate: true, onsubmit: (e: SubmitEvent) => (e.preventDefault(), o.onSave(draft)) },
    h('header', { class: 'rule-editor-head' }, h('a', { href: '#/rules', class: 'back', 'aria-label': t('rules.back') }, '‹'), h('h2', null, o.isNew ? t('rules.newTitle') : t('rules.editTitle'))),
    refusal,
    body,
    h('div', { class: 'toolbar' }, h('button', { type: 'submit', class: 'primary' }, t('rules.save')), h('button', { type: 'button', class: 'secondary', onclick: () => o.onCancel() }, t('rules.cancel')), deleteButton),
  )

  /** A labelled input bound to a getter and setter; `path` is the engine's name for it. */
  function input(label: string, path: string, get: () => string | undefined, set: (v: string) => void, opts: { multiline?: boolean; hint?: string; bytes?: number; type?: string; placeholder?: string; disabled?: boolean } = {}): HTMLElement {
    const id = `rule-${path.replace(/[^\w]/g, '-')}`
    const control = opts.multiline
      ? h('textarea', { id, rows: 3, 'data-field': path, placeholder: opts.placeholder })
      : h('input', { id, type: opts.type ?? 'text', 'data-field': path, autocomplete: 'off', spellcheck: 'false', placeholder: opts.placeholder, disabled: opts.disabled })
    control.value = get() ?? ''
    const counter = opts.bytes === undefined ? null : h('span', { class: 'counter muted' })
    const count = () => {
      if (counter === null) return
      const n = utf8Bytes(control.value)
      counter.textContent = `${n}/${opts.bytes}`
      counter.classList.toggle('over', n > opts.bytes!)
    }
    control.addEventListener('input', () => {
      set(control.value)
      count()
    })
    count()
    fields.set(path, control)
    return h('div', { class: 'field', 'data-for': path }, h('label', { for: id }, label), control, counter, opts.hint === undefined ? null : h('span', { class: 'hint muted' }, opts.hint))
  }

  const lines = (v: string) => v.split('\n').map((l) => l.trim()).filter((l) => l !== '')
  const optional = (v: string) => (v.trim() === '' ? undefined : v)

  function select<T extends string>(label: string, path: string, options: readonly T[], value: T, labelOf: (v: T) => string, change: (v: T) => void): HTMLElement {
    const id = `rule-${path.replace(/[^\w]/g, '-')}-type`
    const el = h('select', { id, 'data-field': path }, options.map((v) => h('option', { value: v, selected: v === value }, labelOf(v))))
    el.addEventListener('change', () => {
      change(el.value as T)
      // the form was drawn again: the keyboard stays where it was
      fields.get(path)?.focus()
    })
    fields.set(path, el)
    return h('div', { class: 'field', 'data-for': path }, h('label', { for: id }, label), el)
  }

  function triggerFields(trigger: RuleTrigger): HTMLElement[] {
    switch (trigger.type) {
      case 'keyword':
        return [
          input(t('rules.field.exact'), 'trigger.exact', () => (trigger.exact ?? []).join('\n'), (v) => (trigger.exact = lines(v)), { multiline: true }),
          input(t('rules.field.contains'), 'trigger.contains', () => (trigger.contains ?? []).join('\n'), (v) => (trigger.contains = lines(v)), { multiline: true }),
        ]
      case 'regex':
        return [input(t('rules.field.pattern'), 'trigger.pattern', () => trigger.pattern, (v) => (trigger.pattern = v), { placeholder: '^订单\\s*(\\d{6,20})$' }), input(t('rules.field.flags'), 'trigger.flags', () => trigger.flags, (v) => (trigger.flags = optional(v)))]
      case 'follow':
      case 'scan':
        return [
          ...(trigger.type === 'follow' ? [h('p', { class: 'muted note' }, t('rules.field.followNote'))] : []),
          input(t('rules.field.scene'), 'trigger.scene', () => trigger.scene, (v) => (trigger.scene = optional(v))),
        ]
      case 'click':
        return [input(t('rules.field.key'), 'trigger.key', () => trigger.key, (v) => (trigger.key = v), { placeholder: 'V1001_TODAY' })]
      case 'message': {
        const group = h(
          'fieldset',
          { class: 'checks', 'data-field': 'trigger.msgTypes' },
          h('legend', null, t('rules.field.msgTypes')),
          RULE_MESSAGE_TYPES.map((m) => {
            const box = h('input', { type: 'checkbox', checked: trigger.msgTypes.includes(m), value: m })
            box.addEventListener('change', () => (trigger.msgTypes = RULE_MESSAGE_TYPES.filter((x) => (x === m ? box.checked : trigger.msgTypes.includes(x)))))
            return h('label', { class: 'check' }, box, tMaybe(`msg.${m}`, m))
          }),
        )
        fields.set('trigger.msgTypes', group)
        return [group]
      }
      case 'default':
        return [h('p', { class: 'muted note' }, t('rules.field.defaultNote'))]
    }
  }

  /** Fields of one single reply at `path` (`reply` or `reply.replies[n]`). */
  function singleReplyFields(reply: RuleSingleReply, path: string): HTMLElement[] {
    const at = (name: string) => `${path}.${name}`
    switch (reply.type) {
      case 'text':
        return [input(t('rules.field.content'), at('content'), () => reply.content, (v) => (reply.content = v), { multiline: true, bytes: TEXT_LIMIT, hint: t('rules.field.placeholders') })]
      case 'image':
      case 'voice':
        return [input(t('rules.field.mediaId'), at('mediaId'), () => reply.mediaId, (v) => (reply.mediaId = v))]
      case 'video':
        return [
          input(t('rules.field.mediaId'), at('mediaId'), () => reply.mediaId, (v) => (reply.mediaId = v)),
          input(t('rules.field.title'), at('title'), () => reply.title, (v) => (reply.title = optional(v))),
          input(t('rules.field.description'), at('description'), () => reply.description, (v) => (reply.description = optional(v))),
        ]
      case 'music':
        return [
          input(t('rules.field.thumbMediaId'), at('thumbMediaId'), () => reply.thumbMediaId, (v) => (reply.thumbMediaId = v)),
          input(t('rules.field.title'), at('title'), () => reply.title, (v) => (reply.title = optional(v))),
          input(t('rules.field.description'), at('description'), () => reply.description, (v) => (reply.description = optional(v))),
          input(t('rules.field.musicUrl'), at('musicUrl'), () => reply.musicUrl, (v) => (reply.musicUrl = optional(v)), { type: 'url' }),
          input(t('rules.field.hqMusicUrl'), at('hqMusicUrl'), () => reply.hqMusicUrl, (v) => (reply.hqMusicUrl = optional(v)), { type: 'url' }),
        ]
      case 'news': {
        const box = h('div', { class: 'sublist', 'data-field': at('articles') })
        fields.set(at('articles'), box)
        reply.articles.forEach((a, i) => {
          const ap = `${at('articles')}[${i}]`
          box.append(
            h(
              'fieldset',
              { class: 'part' },
              h('legend', null, t('rules.field.article', { n: i + 1 })),
              input(t('rules.field.title'), `${ap}.title`, () => a.title, (v) => (a.title = v)),
              input(t('rules.field.description'), `${ap}.description`, () => a.description, (v) => (a.description = optional(v))),
              input(t('rules.field.picUrl'), `${ap}.picUrl`, () => a.picUrl, (v) => (a.picUrl = optional(v)), { type: 'url' }),
              input(t('rules.field.url'), `${ap}.url`, () => a.url, (v) => (a.url = optional(v)), { type: 'url' }),
              reply.articles.length > 1 ? h('button', { type: 'button', class: 'link', onclick: () => (reply.articles.splice(i, 1), draw(`${at('articles')}[0].title`)) }, t('rules.field.removeArticle', { n: i + 1 })) : null,
            ),
          )
        })
        if (reply.articles.length < MAX_ARTICLES) box.append(h('button', { type: 'button', class: 'secondary', onclick: () => (reply.articles.push({ title: '' }), draw(`${at('articles')}[${reply.articles.length - 1}].title`)) }, t('rules.field.addArticle')))
        return [box]
      }
    }
  }

  function replyFields(reply: RuleReply): HTMLElement[] {
    if (reply.type === 'pass') return [h('p', { class: 'muted note' }, t('rules.field.pass'))]
    if (reply.type !== 'random' && reply.type !== 'all') return singleReplyFields(reply, 'reply')
    const box = h('div', { class: 'sublist', 'data-field': 'reply.replies' })
    fields.set('reply.replies', box)
    reply.replies.forEach((part, i) => {
      const path = `reply.replies[${i}]`
      box.append(
        h(
          'fieldset',
          { class: 'part' },
          h('legend', null, t('rules.field.part', { n: i + 1 })),
          select(t('rules.field.type'), path, SINGLE_REPLY_TYPES, part.type, (v) => t(`rules.reply.${v}`), (v) => ((reply.replies[i] = blankReply(v) as RuleSingleReply), draw())),
          singleReplyFields(part, path),
          reply.replies.length > 1 ? h('button', { type: 'button', class: 'link', onclick: () => (reply.replies.splice(i, 1), draw('reply')) }, t('rules.field.removePart', { n: i + 1 })) : null,
        ),
      )
    })
    if (reply.replies.length < MAX_PARTS) box.append(h('button', { type: 'button', class: 'secondary', onclick: () => (reply.replies.push({ type: 'text', content: '' }), draw(`reply.replies[${reply.replies.length - 1}]`)) }, t('rules.field.addPart')))
    return [box]
  }

  function scheduleFields(): HTMLElement {
    const on = h('input', { type: 'checkbox', id: 'rule-schedule-on', checked: draft.schedule !== undefined })
    on.addEventListener('change', () => {
      draft.schedule = on.checked ? { timezone: 'Asia/Shanghai', windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '18:00' }] } : undefined
      draw('schedule')
    })
    fields.set('schedule', on)
    const schedule = draft.schedule
    const parts: Array<HTMLElement | null> = [h('label', { class: 'check', for: 'rule-schedule-on' }, on, t('rules.field.schedule'))]
    if (schedule !== undefined) {
      parts.push(input(t('rules.field.timezone'), 'schedule.timezone', () => schedule.timezone, (v) => (schedule.timezone = optional(v)), { placeholder: 'Asia/Shanghai' }))
      schedule.windows.forEach((w, i) => {
        const wp = `schedule.windows[${i}]`
        const days = h(
          'div',
          { class: 'days', 'data-field': `${wp}.days`, role: 'group', 'aria-label': t('rules.field.days') },
          DAYS_SHOWN.map((d) => {
            const box = h('input', { type: 'checkbox', checked: w.days === undefined || w.days.includes(d) })
            box.addEventListener('change', () => {
              const chosen = WEEKDAYS.filter((x) => (x === d ? box.checked : w.days === undefined || w.days.includes(x)))
              w.days = chosen.length === WEEKDAYS.length ? undefined : (chosen as Weekday[])
            })
            return h('label', { class: 'check day' }, box, t(`rules.day.${d}`))
          }),
        )
        fields.set(`${wp}.days`, days)
        parts.push(
          h(
            'fieldset',
            { class: 'part window-part' },
            h('legend', null, t('rules.field.window', { n: i + 1 })),
            days,
            h('div', { class: 'times' }, input(t('rules.field.from'), `${wp}.from`, () => w.from, (v) => (w.from = v), { placeholder: '09:00' }), input(t('rules.field.to'), `${wp}.to`, () => w.to, (v) => (w.to = v), { placeholder: '18:00' })),
            schedule.windows.length > 1 ? h('button', { type: 'button', class: 'link', onclick: () => (schedule.windows.splice(i, 1), draw('schedule')) }, t('rules.field.removeWindow', { n: i + 1 })) : null,
          ),
        )
      })
      parts.push(h('button', { type: 'button', class: 'secondary', onclick: () => (schedule.windows.push({ from: '09:00', to: '18:00' }), draw(`schedule.windows[${schedule.windows.length - 1}].from`)) }, t('rules.field.addWindow')))
    }
    return h('fieldset', { class: 'group', 'data-field': 'schedule' }, parts)
  }

  /** Draws the form again (after a change of shape); `focus` names the field the keyboard goes to. */
  function draw(focus?: string): void {
    fields.clear()
    const enabled = h('input', { type: 'checkbox', id: 'rule-enabled', 'data-field': 'enabled', checked: draft.enabled !== false })
    enabled.addEventListener('change', () => (draft.enabled = enabled.checked))
    fields.set('enabled', enabled)
    replace(
      body,
      input(t('rules.field.name'), 'name', () => draft.name, (v) => (draft.name = optional(v))),
      h(
        'div',
        { class: 'row' },
        input(t('rules.field.id'), 'id', () => draft.id, (v) => (draft.id = optional(v)), o.isNew ? { hint: t('rules.field.idHint') } : { disabled: true }),
        input(t('rules.field.priority'), 'priority', () => (draft.priority === undefined ? '' : String(draft.priority)), (v) => (draft.priority = v.trim() === '' ? undefined : (Number(v) as number)), { type: 'number', hint: t('rules.field.priorityHint') }),
      ),
      h('label', { class: 'check', for: 'rule-enabled' }, enabled, t('rules.field.enabled')),
      h(
        'fieldset',
        { class: 'group' },
        h('legend', null, t('rules.field.trigger')),
        select(t('rules.field.type'), 'trigger', RULE_TRIGGER_TYPES, draft.trigger.type, (v) => t(`rules.trigger.${v}`), (v) => ((draft.trigger = blankTrigger(v)), draw())),
        triggerFields(draft.trigger),
      ),
      h(
        'fieldset',
        { class: 'group' },
        h('legend', null, t('rules.field.reply')),
        select(t('rules.field.type'), 'reply', RULE_REPLY_TYPES, draft.reply.type, (v) => t(`rules.reply.${v}` as StringKey), (v) => ((draft.reply = blankReply(v)), draw())),
        replyFields(draft.reply),
      ),
      scheduleFields(),
      input(t('rules.field.cooldown'), 'cooldownSec', () => (draft.cooldownSec === undefined ? '' : String(draft.cooldownSec)), (v) => (draft.cooldownSec = v.trim() === '' ? undefined : Number(v)), { type: 'number', hint: t('rules.field.cooldownHint') }),
    )
    if (focus !== undefined) fields.get(focus)?.focus()
  }

  draw()
  return {
    element,
    showProblems(message, problems) {
      for (const el of element.querySelectorAll('[aria-invalid="true"]')) el.removeAttribute('aria-invalid')
      for (const el of element.querySelectorAll('.field-error')) el.remove()
      replace(refusal, h('p', null, t('rules.refused')), h('pre', { class: 'cli-message' }, message))
      let first: HTMLElement | undefined
      for (const p of problems) {
        const path = fieldFor(p.field, new Set(fields.keys()))
        const el = path === undefined ? undefined : fields.get(path)
        if (el === undefined) continue
        el.setAttribute('aria-invalid', 'true')
        const note = h('span', { class: 'field-error', role: 'note' }, p.text)
        ;(el.closest('.field') ?? el).append(note)
        first ??= el
      }
      ;(first ?? refusal).scrollIntoView({ block: 'center' })
      first?.focus()
    },
  }
}
