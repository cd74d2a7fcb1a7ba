// Building the page: every value goes in as text (textContent, attributes by setAttribute), never as
// markup, so a "<script>" typed into a form shows as those characters.

// h('p', {class: 'note'}, 'text', child, [more]) → an element. Attributes: `class`, `for`, on*
// handlers (functions), booleans (true sets, false/null/undefined omits), everything else as a
// string attribute. Children: strings and numbers become text nodes, null/false are skipped,
// arrays are flattened.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'value' && 'value' in el) {
      el.value = String(value);
    } else if (name === 'checked' || name === 'selected') {
      el[name] = Boolean(value);
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

// Replaces what `parent` holds.
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

// A definition list from [term, value] pairs; pairs whose value is null, undefined or '' are left out.
export function facts(pairs, attrs = {}) {
  const dl = h('dl', {class: 'facts', ...attrs});  // attrs.class replaces 'facts'
  for (const [term, value] of pairs) {
    if (value === null || value === undefined || value === '') continue;
    dl.append(h('div', {}, h('dt', {}, term), h('dd', {}, value)));
  }
  return dl;
}

// A status line read out by screen readers when it changes.
export function liveRegion(attrs = {}) {
  return h('div', {role: 'status', 'aria-live': 'polite', class: 'live', ...attrs});
}

let uniqueCounter = 0;
export function uniqueId(prefix) {
  uniqueCounter += 1;
  return `${prefix}-${uniqueCounter}`;
}

// A labelled control: label above, control, optional hint tied by aria-describedby.
export function field(labelText, control, hint) {
  if (!control.id) control.id = uniqueId('f');
  const parts = [h('label', {for: control.id}, labelText), control];
  if (hint) {
    const hintId = uniqueId('hint');
    control.setAttribute('aria-describedby', hintId);
    parts.push(h('p', {class: 'hint', id: hintId}, hint));
  }
  return h('div', {class: 'field'}, parts);
}

// Sets the document title and moves focus to the page's heading, so keyboard and screen-reader
// users land on the new content after a navigation.
export function announcePage(main, title) {
  document.title = `${title} · 通办`;
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({preventScroll: true});
  }
}
