/**
 * The page's only way to make elements. Strings always become text nodes: nothing a follower
 * sent (message text, link titles, URLs) can become HTML. There is no innerHTML anywhere.
 */
export type Child = Node | string | number | null | undefined | false | Child[]
type Handler = (event: never) => void
export type Attrs = Record<string, string | number | boolean | null | undefined | Handler>

const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'multiple'])

function apply(el: Element, attrs: Attrs | null | undefined): void {
  if (attrs == null) return
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2).toLowerCase(), value as EventListener)
    } else if (PROPS.has(name)) {
      ;(el as unknown as Record<string, unknown>)[name] = value
    } else if (name === 'href' || name === 'src') {
      el.setAttribute(name, String(value))
    } else {
      el.setAttribute(name, value === true ? '' : String(value))
    }
  }
}

function append(el: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    if (Array.isArray(child)) append(el, child)
    else el.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child)
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  apply(el, attrs)
  append(el, children)
  return el
}

const SVG_NS = 'http://www.w3.org/2000/svg'
export function svg(tag: string, attrs?: Attrs | null, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag) as SVGElement
  apply(el, attrs)
  append(el, children)
  return el
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild)
}

export function replace(el: Element, ...children: Child[]): void {
  clear(el)
  append(el, children)
}

/** A URL a follower sent, as a link only when it is http(s); anything else stays text. */
export function externalLink(url: string, label: Child, className?: string): HTMLElement {
  let ok = false
  try {
    const parsed = new URL(url)
    ok = parsed.protocol === 'http:' || parsed.protocol === 'https:'
  } catch {
    ok = false
  }
  if (!ok) return h('span', { class: className }, label)
  return h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', class: className }, label)
}
