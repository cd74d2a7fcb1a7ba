// Pieces several pages share: the error box for problem documents, the light, due dates marked
// provisional, and the sign-in gate of the staff pages.
import {ApiError, request, setToken, token} from './api.js';
import {field, h, replace, uniqueId} from './dom.js';
import {LIGHT, problemWords} from './labels.js';
import {formatDay} from './time.js';

// An error in plain Chinese words: what went wrong, the server's detail, and each field it names
// (errors[].pointer, with line and column where the server gives them).
export function problemBox(error, heading = '操作未成功') {
  if (!(error instanceof ApiError)) {
    console.error(error);  // a bug of the console itself, never data or tokens
    return h('div', {class: 'problem', role: 'alert'}, h('h2', {}, heading),
      h('p', {}, '页面出现意外错误，请刷新后重试。'));
  }
  const problem = error.problem || {};
  const items = (Array.isArray(problem.errors) ? problem.errors : []).map((e) => h('li', {},
    e.line ? `第 ${e.line} 行第 ${e.column || 1} 列 ` : '',
    e.pointer !== undefined ? h('code', {}, e.pointer === '' ? '（整个文档）' : e.pointer) : '',
    e.message ? ` ${e.message}` : ''));
  return h('div', {class: 'problem', role: 'alert'},
    h('h2', {}, heading),
    h('p', {class: 'problem-words'}, problemWords(error)),
    problem.detail ? h('p', {class: 'problem-detail'}, '说明：', problem.detail) : null,
    items.length ? h('ul', {class: 'problem-errors'}, items) : null,
    problem.type ? h('p', {class: 'hint'}, `错误类型 ${problem.type}，HTTP ${error.status}`) : null);
}

export function lightBadge(light) {
  const known = LIGHT[light];
  if (!known) return null;
  return h('span', {class: `light light-${light}`, title: known.long},
    h('span', {class: 'light-dot', 'aria-hidden': 'true'}), known.words);
}

// A due date, with 预计 when the calendar does not yet cover its year.
export function dueDate(isoDay, provisional) {
  if (!isoDay) return null;
  return h('span', {class: 'due'}, formatDay(isoDay),
    provisional ? h('span', {class: 'provisional', title: '该年度节假日安排尚未公布，日期为预计'}, '（预计）') : null);
}

export function loading(main, text = '正在加载…') {
  replace(main, h('p', {class: 'loading', role: 'status'}, text));
}

// Staff pages need a token; without one they show this form. `then` runs once signed in.
export function signInForm(main, then, note) {
  const input = h('input', {type: 'password', name: 'token', autocomplete: 'off', required: true,
    spellcheck: 'false'});
  const message = h('div', {'aria-live': 'polite'});
  const form = h('form', {class: 'card signin', onsubmit: async (event) => {
    event.preventDefault();
    setToken(input.value.trim());
    try {
      await request('/v1/definitions');  // any principal may read it: checks the token
      input.value = '';
      document.dispatchEvent(new CustomEvent('tongban:session'));
      then();
    } catch (e) {
      setToken('');
      replace(message, problemBox(e, '登录未成功'));
    }
  }},
  h('h1', {}, '工作人员登录'),
  note ? h('p', {}, note) : null,
  field('访问令牌', input, '粘贴系统管理员发给您的令牌。令牌只保存在本标签页中，关闭标签页即失效。'),
  h('button', {type: 'submit', class: 'primary'}, '登录'),
  message);
  replace(main, form);
  input.focus();
}

export function requireToken(main, then) {
  if (token()) then();
  else signInForm(main, then);
}

// A <pre> of JSON (as text).
export function jsonBlock(value, label) {
  const id = uniqueId('json');
  return h('figure', {class: 'json'},
    label ? h('figcaption', {id}, label) : null,
    h('pre', {tabindex: '0', 'aria-labelledby': label ? id : null}, JSON.stringify(value, null, 2)));
}
