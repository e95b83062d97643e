/**
 * 自动回复 (replies without code): the rules, highest priority first, each with its trigger and
 * reply in words and a switch; the editor beside the list (#/rules/new, #/rules/<id>); and a
 * test box that says which rule would answer a message and with what, as `wxmp rules test`
 * does. On a phone-width screen the list and the editor take turns.
 */
import { ApiError, del, get, post, put } from '../api.js'
import type { Page } from '../app.js'
import { h, replace } from '../dom.js'
import { t, tMaybe } from '../i18n.js'
import { cleanDraft, conditionsSummary, newDraft, replySummary, RULE_MESSAGE_TYPES, toDraft, triggerSummary, type Rule, type RuleProblemView, type RuleTestView } from '../rules-model.js'
import { ruleEditor, type RuleEditor } from './rules-editor.js'

export const rulesPage: Page = (root, app, args) => {
  const selected = args[0] === 'new' ? 'new' : args[0] !== undefined && /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/.test(args[0]) ? args[0] : undefined
  let rules: Rule[] = []
  const list = h('ol', { class: 'rule-items', 'aria-label': t('rules.list') })
  const side = h('section', { class: 'rule-side', 'aria-live': 'polite' })
  const intro = h('p', { class: 'muted rules-intro' }, t('rules.intro'))
  const order = h('p', { class: 'rules-order' })
  replace(
    root,
    h(
      'div',
      { class: `rules${selected === undefined ? '' : ' has-selection'}` },
      h('div', { class: 'rules-main' }, h('div', { class: 'rules-head' }, h('a', { href: '#/rules/new', class: 'button primary', id: 'rule-new' }, t('rules.new'))), intro, order, list, testBox()),
      side,
    ),
  )

  async function load(): Promise<void> {
    try {
      const r = await get<{ rules: Rule[]; order: string }>('/rules')
      rules = r.rules
      order.textContent = tMaybe(`rules.order.${r.order}`, r.order)
      drawList()
      drawSide()
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'rules-off') replace(list, h('li', { class: 'empty' }, t('rules.off')))
      else if (!(err instanceof ApiError && err.status === 401)) app.notify(t('app.loadFailed'), 'error')
    }
  }

  function drawList(): void {
    if (rules.length === 0) return replace(list, h('li', { class: 'empty' }, t('rules.none')))
    replace(
      list,
      rules.map((rule) => {
        const toggle = h('input', { type: 'checkbox', class: 'switch', checked: rule.enabled, 'aria-label': t('rules.toggle', { name: rule.name }) })
        toggle.addEventListener('change', () => void setEnabled(rule, toggle.checked, toggle))
        const conditions = conditionsSummary(rule)
        return h(
          'li',
          { class: `rule-item${rule.enabled ? '' : ' off'}${rule.id === selected ? ' active' : ''}`, 'data-rule': rule.id },
          h('span', { class: 'rule-priority', title: t('rules.priority') }, String(rule.priority)),
          h(
            'div',
            { class: 'rule-main' },
            h('a', { href: `#/rules/${encodeURIComponent(rule.id)}`, class: 'rule-name' }, rule.name, rule.name === rule.id ? null : h('span', { class: 'muted mono' }, ` ${rule.id}`)),
            h('div', { class: 'rule-when' }, triggerSummary(rule.trigger)),
            h('div', { class: 'rule-what' }, '→ ', replySummary(rule.reply)),
            conditions === '' && rule.source === undefined ? null : h('div', { class: 'rule-cond muted' }, conditions, rule.source === undefined ? null : h('span', { class: 'badge' }, t('rules.source.console'))),
          ),
          h('label', { class: 'rule-switch' }, toggle, h('span', { class: rule.enabled ? 'on-label' : 'off-label' }, rule.enabled ? t('rules.enabled') : t('rules.disabled'))),
        )
      }),
    )
  }

  let editor: RuleEditor | undefined
  function drawSide(): void {
    if (selected === undefined) return replace(side, h('p', { class: 'placeholder' }, t('rules.pick')))
    const existing = selected === 'new' ? undefined : rules.find((r) => r.id === selected)
    if (selected !== 'new' && existing === undefined) return replace(side, h('p', { class: 'placeholder' }, t('rules.pick')))
    if (editor !== undefined && side.contains(editor.element)) return // keep what is being typed
    editor = ruleEditor({
      draft: existing === undefined ? newDraft() : toDraft(existing),
      isNew: existing === undefined,
      onSave: (draft) => void save(draft, existing),
      onCancel: () => (location.hash = '#/rules'),
      ...(existing === undefined ? {} : { onDelete: () => void remove(existing) }),
    })
    replace(side, editor.element)
  }

  async function save(draft: ReturnType<typeof newDraft>, existing: Rule | undefined): Promise<void> {
    const body = cleanDraft(draft)
    try {
      const r = existing === undefined ? await post<{ rule: Rule }>('/rules', body) : await put<{ rule: Rule }>(`/rules/${encodeURIComponent(existing.id)}`, body)
      app.notify(t('rules.saved'))
      editor = undefined
      const next = `#/rules/${encodeURIComponent(r.rule.id)}`
      if (location.hash === next) app.rerender()
      else location.hash = next
    } catch (err) {
      if (err instanceof ApiError && Array.isArray(err.body.problems)) editor?.showProblems(err.message, err.body.problems as RuleProblemView[])
      else if (err instanceof ApiError) editor?.showProblems(err.message, [])
      else app.notify(t('app.unreachable'), 'error')
    }
  }

  async function remove(rule: Rule): Promise<void> {
    try {
      await del(`/rules/${encodeURIComponent(rule.id)}`)
      app.notify(t('rules.deleted'))
      editor = undefined
      location.hash = '#/rules'
    } catch (err) {
      app.notify(err instanceof ApiError ? err.message : t('app.unreachable'), 'error')
    }
  }

  async function setEnabled(rule: Rule, enabled: boolean, toggle: HTMLInputElement): Promise<void> {
    try {
      const r = await post<{ rule: Rule }>(`/rules/${encodeURIComponent(rule.id)}/enabled`, { enabled })
      rules = rules.map((x) => (x.id === rule.id ? r.rule : x))
      drawList()
      app.notify(enabled ? t('rules.enabledNotice') : t('rules.disabledNotice'))
    } catch (err) {
      toggle.checked = !enabled
      app.notify(err instanceof ApiError ? err.message : t('app.unreachable'), 'error')
    }
  }

  /** Which rule would answer a message, and with what (no WeChat involved). */
  function testBox(): HTMLElement {
    const kinds = ['text', 'click', 'follow', 'scan', 'message'] as const
    const kind = h('select', { id: 'rule-test-kind' }, kinds.map((k) => h('option', { value: k }, t(`rules.test.${k}`))))
    const value = h('input', { id: 'rule-test-value', autocomplete: 'off', placeholder: '价格' })
    const type = h('select', { id: 'rule-test-type', hidden: true, 'aria-label': t('rules.field.msgTypes') }, RULE_MESSAGE_TYPES.filter((m) => m !== 'text').map((m) => h('option', { value: m }, tMaybe(`msg.${m}`, m))))
    const result = h('div', { class: 'rule-test-result', role: 'status', 'aria-live': 'polite' })
    kind.addEventListener('change', () => {
      type.hidden = kind.value !== 'message'
      value.hidden = kind.value === 'message'
    })
    const run = async () => {
      const k = kind.value
      const body = k === 'text' ? { kind: k, text: value.value } : k === 'click' ? { kind: k, key: value.value } : k === 'message' ? { kind: k, msgType: type.value } : { kind: k, scene: value.value }
      try {
        const r = await post<RuleTestView>('/rules/test', body)
        replace(result, testResult(r))
      } catch (err) {
        replace(result, h('p', { class: 'form-error' }, err instanceof ApiError ? err.message : t('app.unreachable')))
      }
    }
    return h(
      'form',
      { class: 'rule-test', onsubmit: (e: SubmitEvent) => (e.preventDefault(), void run()) },
      h('h2', null, t('rules.test.title')),
      h('div', { class: 'rule-test-row' }, h('label', { for: 'rule-test-kind', class: 'visually-hidden' }, t('rules.test.kind')), kind, h('label', { for: 'rule-test-value', class: 'visually-hidden' }, t('rules.test.value')), value, type, h('button', { type: 'submit', class: 'secondary' }, t('rules.test.run'))),
      result,
    )
  }

  void load()
  return () => {}
}

function testResult(r: RuleTestView): HTMLElement {
  const rule = r.rule
  const head =
    r.outcome === 'none' || rule === null
      ? t('rules.test.none')
      : r.outcome === 'pass'
        ? t('rules.test.pass', { name: rule.name, id: rule.id })
        : r.outcome === 'default'
          ? t('rules.test.default', { name: rule.name, id: rule.id })
          : t('rules.test.rule', { name: rule.name, id: rule.id, priority: rule.priority })
  return h(
    'div',
    { 'data-outcome': r.outcome, 'data-rule': rule?.id },
    h('p', { class: 'rule-test-head' }, head),
    r.mode === 'random' ? h('p', { class: 'muted' }, t('rules.test.random')) : r.mode === 'all' ? h('p', { class: 'muted' }, t('rules.test.all')) : null,
    r.replies.length === 0 ? null : h('ul', { class: 'rule-test-replies' }, r.replies.map((x) => h('li', { class: 'text' }, x.text))),
    r.cooldownSec === null ? null : h('p', { class: 'muted' }, t('rules.test.cooldown', { n: r.cooldownSec })),
    r.skipped.map((s) => h('p', { class: 'muted' }, t('rules.test.skipped', { name: s.name, why: s.why }))),
  )
}
