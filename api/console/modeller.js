// 流程建模 (modeller): deployed definitions and their versions, the process graph (SVG from the
// API shown through a blob: URL; the Mermaid text when the server draws no SVG), the definition's
// JSON, a validate box that marks each error at its line and column, and deploy for admins.
import {ApiError, enc, request} from './api.js';
import {announcePage, field, h, liveRegion, replace} from './dom.js';
import {definitionList, forgetDefinitions} from './definitions.js';
import {jsonBlock, loading, problemBox, requireToken} from './ui.js';

export function renderModeller(main, rest) {
  requireToken(main, () => (rest[0] ? renderDefinition(main, rest[0], rest[1]) : renderList(main)));
}

async function renderList(main) {
  loading(main);
  let defs;
  try {
    defs = await definitionList();
  } catch (e) {
    replace(main, h('h1', {}, '流程建模'), problemBox(e, '无法读取流程定义'));
    announcePage(main, '流程建模');
    return;
  }
  replace(main,
    h('h1', {}, '流程建模'),
    h('section', {'aria-labelledby': 'defs-title'},
      h('h2', {id: 'defs-title'}, `已部署的流程定义（${defs.length} 项）`),
      h('div', {class: 'table-wrap'}, h('table', {},
        h('thead', {}, h('tr', {}, ['名称', '类型', '办理机关', '版本'].map((t) => h('th', {scope: 'col'}, t)))),
        h('tbody', {}, defs.map((d) => h('tr', {},
          h('th', {scope: 'row'}, h('a', {href: `#/definitions/${enc(d.id)}`}, d.title || d.id),
            h('div', {class: 'hint'}, d.id)),
          h('td', {}, d.kind === 'bundle' ? '一件事' : '事项',
            (d.modes || []).includes('commitment') ? '（可告知承诺）' : ''),
          h('td', {}, d.organ?.name || ''),
          h('td', {}, (d.versions || [d.latest_version]).map((v, i) => [i ? ' ' : '',
            h('a', {href: `#/definitions/${enc(d.id)}/${enc(v)}`}, `第 ${v} 版`)])))))))),
    validateBox(''));
  announcePage(main, '流程建模');
}

async function renderDefinition(main, id, version) {
  loading(main);
  let def;
  try {
    ({data: def} = await request(`/v1/definitions/${enc(id)}${version ? `?version=${enc(version)}` : ''}`));
  } catch (e) {
    replace(main, h('h1', {}, '流程定义'), problemBox(e, '无法读取流程定义'),
      h('p', {}, h('a', {href: '#/definitions'}, '返回流程建模')));
    announcePage(main, '流程定义');
    return;
  }
  const graphBox = h('div', {class: 'graph'}, h('p', {class: 'loading'}, '正在绘制流程图…'));
  const text = JSON.stringify(def, null, 2);
  replace(main,
    h('p', {class: 'breadcrumb no-print'}, h('a', {href: '#/definitions'}, '流程建模'), ' › ', def.title || id),
    h('h1', {}, `${def.title || id}（第 ${def.version} 版）`),
    def.description ? h('p', {class: 'lead'}, def.description) : null,
    h('section', {class: 'card', 'aria-labelledby': 'graph-title'},
      h('h2', {id: 'graph-title'}, '流程图'), graphBox),
    h('section', {class: 'card', 'aria-labelledby': 'json-title'},
      h('h2', {id: 'json-title'}, '定义 JSON'),
      h('details', {}, h('summary', {}, '展开定义 JSON'), jsonBlock(def))),
    validateBox(text));
  announcePage(main, def.title || id);
  drawGraph(graphBox, id, def.version, def.title || id);
}

// The graph as SVG, fetched with the token and shown from a blob: URL (an <img> cannot send the
// Authorization header); else the Mermaid text.
async function drawGraph(box, id, version, title) {
  const base = `/v1/definitions/${enc(id)}/graph?version=${enc(version)}`;
  try {
    const {response} = await request(`${base}&format=svg&rankdir=TB`, {raw: true});
    const type = response.headers.get('Content-Type') || '';
    if (type.includes('svg')) {
      const blob = new Blob([await response.arrayBuffer()], {type: 'image/svg+xml'});
      const url = URL.createObjectURL(blob);
      const img = h('img', {src: url, alt: `${title}的流程图：从上到下为办理环节，连线上为操作名称`, class: 'graph-image'});
      replace(box, img, h('p', {class: 'no-print'}, h('a', {href: url, download: `${id}-v${version}.svg`}, '下载 SVG')));
      return;
    }
  } catch (e) {
    if (!(e instanceof ApiError) || (e.status !== 422 && e.status !== 400 && e.status !== 404)) {
      replace(box, problemBox(e, '无法绘制流程图'));
      return;
    }
  }
  try {
    const {data} = await request(`${base}&format=mermaid`);
    replace(box,
      h('p', {class: 'hint'}, '服务器未提供 SVG 流程图，以下为 Mermaid 文本：'),
      h('pre', {class: 'graph-text', tabindex: '0', 'aria-label': `${title}的流程图（Mermaid 文本）`}, String(data)));
  } catch (e) {
    replace(box, problemBox(e, '无法绘制流程图'));
  }
}

// ---- Validate and deploy -----------------------------------------------------------------------

function validateBox(text) {
  const textarea = h('textarea', {name: 'definition', rows: '18', spellcheck: 'false', wrap: 'off',
    class: 'code-input', autocomplete: 'off'});
  textarea.value = text;
  const summary = liveRegion({class: 'validate-summary'});
  const results = h('div', {class: 'validate-results'});
  const run = async (mode) => {
    const body = textarea.value;
    replace(results);
    summary.textContent = mode === 'deploy' ? '正在部署…' : '正在校验…';
    try {
      const {data, status} = mode === 'deploy'
        ? await request('/v1/definitions', {method: 'POST', text: body})
        : await request('/v1/definitions/validate', {method: 'POST', text: body});
      const errors = diagnostics(data?.errors).filter((d) => d.severity !== 'warning');
      const warnings = diagnostics(data?.warnings).concat(
        diagnostics(data?.errors).filter((d) => d.severity === 'warning'));
      if (mode === 'deploy') {
        forgetDefinitions();
        summary.textContent = status === 201
          ? `已部署：${(data.deployed || []).join('、')}` : '内容与已部署的版本相同，未做改动。';
      } else if (errors.length || data?.valid === false || data?.ok === false) {
        summary.textContent = `校验发现 ${errors.length} 个错误。`;
      } else {
        summary.textContent = `校验通过${warnings.length ? `，有 ${warnings.length} 条提醒` : ''}。`;
      }
      showDiagnostics(results, textarea, body, errors, warnings);
    } catch (e) {
      if (mode === 'validate' && e instanceof ApiError && e.status === 404 &&
          !e.problem?.errors) {
        summary.textContent = '本服务器尚未提供在线校验（POST /v1/definitions/validate）。';
        replace(results, h('p', {class: 'problem', role: 'alert'},
          '在线校验不可用。可用命令行 tongban validate 校验，或由管理员直接部署（部署时同样校验）。'));
        return;
      }
      const errors = diagnostics(e.problem?.errors);
      summary.textContent = errors.length ? `${mode === 'deploy' ? '未部署：' : ''}发现 ${errors.length} 个错误。`
        : mode === 'deploy' ? '未部署。' : '校验未成功。';
      replace(results, problemBox(e, mode === 'deploy' ? '部署未成功' : '校验未成功'));
      if (errors.length) showDiagnostics(results, textarea, body, errors, [], true);
    }
  };
  return h('section', {class: 'card validate', 'aria-labelledby': 'validate-title'},
    h('h2', {id: 'validate-title'}, '校验与部署'),
    field('流程定义 JSON', textarea, '粘贴或编辑一个事项、一件事、日历、委托或协议的定义。错误会标出所在的行和列。'),
    h('div', {class: 'button-row'},
      h('button', {type: 'button', class: 'primary', 'data-run': 'validate', onclick: () => run('validate')}, '校验'),
      h('button', {type: 'button', 'data-run': 'deploy', onclick: () => run('deploy')}, '部署（仅管理员）')),
    summary, results);
}

// Diagnostics from either shape: {line, column} or {position: {line, column}}.
function diagnostics(list) {
  return (Array.isArray(list) ? list : []).map((d) => ({
    ...d,
    line: d.line ?? d.position?.line ?? null,
    column: d.column ?? d.position?.column ?? null,
  }));
}

function showDiagnostics(results, textarea, text, errors, warnings, keep = false) {
  if (!keep) replace(results);
  if (!errors.length && !warnings.length) return;
  const lines = text.split('\n');
  const marked = new Map();
  for (const d of [...errors, ...warnings]) if (d.line) marked.set(d.line, d.severity === 'warning' && !marked.has(d.line) ? 'warning' : 'error');
  const list = h('ol', {class: 'diagnostics'}, [...errors, ...warnings].map((d) => h('li', {
    class: d.severity === 'warning' ? 'warning' : 'error'},
  h('button', {type: 'button', class: 'link', 'data-line': d.line || '', disabled: !d.line,
    onclick: () => moveCursor(textarea, lines, d.line, d.column)},
  d.line ? `第 ${d.line} 行，第 ${d.column || 1} 列` : '（位置未知）'),
  '：', d.severity === 'warning' ? '提醒 ' : '', d.message || d.code || '',
  d.pointer ? [' ', h('code', {}, d.pointer)] : '')));
  // The text with line numbers, the lines in error marked.
  const shown = new Set();
  for (const line of marked.keys()) for (let i = line - 2; i <= line + 2; i += 1) shown.add(i);
  const excerpt = h('ol', {class: 'code-view', 'aria-label': '出错的行', tabindex: '0'});
  let last = 0;
  for (let n = 1; n <= lines.length; n += 1) {
    if (!shown.has(n)) continue;
    if (last && n > last + 1) excerpt.append(h('li', {class: 'gap', 'aria-hidden': 'true', value: n}, '…'));
    const kind = marked.get(n);
    excerpt.append(h('li', {value: n, class: kind ? `marked marked-${kind}` : null, 'data-line': n},
      kind ? h('mark', {}, lines[n - 1] || ' ') : lines[n - 1] || ' '));
    last = n;
  }
  results.append(h('h3', {}, '问题'), list, h('h3', {}, '所在位置'), excerpt);
  const first = errors.find((d) => d.line) || warnings.find((d) => d.line);
  if (first) placeCursor(textarea, lines, first.line, first.column);
}

// Selects the line of an error in the textarea and scrolls it into view.
function placeCursor(textarea, lines, line, column) {
  let start = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i += 1) start += lines[i].length + 1;
  const end = start + (lines[line - 1] || '').length;
  textarea.setSelectionRange(Math.min(start + Math.max((column || 1) - 1, 0), end), end);
  const lineHeight = parseFloat(getComputedStyle(textarea).lineHeight) || 20;
  textarea.scrollTop = Math.max(0, (line - 3) * lineHeight);
  textarea.dataset.cursorLine = String(line);
}

function moveCursor(textarea, lines, line, column) {
  if (!line) return;
  textarea.focus();
  placeCursor(textarea, lines, line, column);
}
