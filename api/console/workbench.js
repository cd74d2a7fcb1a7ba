// 工作台 (staff workbench): case lists by light, status, item and organ with counts; a case with
// its available actions as buttons (forms built from each action's `fields`), the materials
// checklist, the clock and the light; a new application built from the definition's form.
// Actions are sent with If-Match: the case's ETag, so nobody decides on a state they did not see.
import {ApiError, enc, request} from './api.js';
import {announcePage, facts, field, h, liveRegion, replace, uniqueId} from './dom.js';
import {definition, definitionList, formLabel, materialName} from './definitions.js';
import {DECISION, FINAL_STATUSES, LIGHT, ROLE, STATUS, VERIFICATION, actionTitle, statusWords} from './labels.js';
import {dueDate, lightBadge, loading, problemBox, requireToken} from './ui.js';
import {formatTime} from './time.js';

export function renderWorkbench(main, rest, params) {
  requireToken(main, () => {
    if (rest[0] === 'new') return renderApplication(main);
    if (rest[0]) return renderCase(main, rest[0]);
    return renderCaseList(main, params);
  });
}

// ---- Case lists --------------------------------------------------------------------------------

const FILTERS = ['status', 'light', 'definition', 'organ'];

function caseTitle(c) {
  return c.definition?.title || c.title || c.bundle?.title || c.definition?.id || c.definition || '';
}

function caseOrgan(c) {
  return c.organ?.name || c.lead_organ?.name || c.organ || '';
}

async function renderCaseList(main, params) {
  loading(main);
  const filters = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) || '']));
  const query = new URLSearchParams({limit: '100'});
  for (const [k, v] of Object.entries(filters)) if (v) query.set(k, v);
  let defs = [];
  let listed;
  try {
    [defs, listed] = await Promise.all([definitionList(), request(`/v1/cases?${query}`)]);
  } catch (e) {
    replace(main, h('h1', {}, '工作台'), problemBox(e, '无法读取办件'));
    announcePage(main, '工作台');
    return;
  }
  const cases = listed.data.cases || [];
  const organs = new Map(defs.map((d) => [d.organ?.id, d.organ?.name]));
  const titles = new Map(defs.map((d) => [d.id, d.title]));
  const nameOf = {
    status: (v) => STATUS[v] || v,
    light: (v) => LIGHT[v]?.words || v,
    definition: (v) => titles.get(v) || v,
    organ: (v) => organs.get(v) || v,
  };
  const filterForm = h('form', {class: 'filters card', onsubmit: (event) => {
    event.preventDefault();
    const chosen = new URLSearchParams();
    for (const k of FILTERS) {
      const value = event.target.elements[k].value;
      if (value) chosen.set(k, value);
    }
    location.hash = `#/cases?${chosen}`;
  }},
  h('h2', {}, '筛选'),
  h('div', {class: 'filter-row'},
    field('状态', select('status', filters.status, Object.keys(STATUS), nameOf.status)),
    field('灯', select('light', filters.light, Object.keys(LIGHT), nameOf.light)),
    field('事项', select('definition', filters.definition, defs.map((d) => d.id), nameOf.definition)),
    field('办理机关', select('organ', filters.organ, [...organs.keys()].filter(Boolean), nameOf.organ))),
  h('button', {type: 'submit', class: 'primary'}, '筛选'), ' ',
  h('a', {href: '#/cases'}, '清除筛选'));
  const countsBox = h('section', {class: 'card counts', 'aria-labelledby': 'counts-title'},
    h('h2', {id: 'counts-title'}, '办件统计'), h('p', {class: 'loading'}, '正在统计…'));
  replace(main,
    h('div', {class: 'page-head'}, h('h1', {}, '工作台'),
      h('a', {class: 'button', href: '#/cases/new'}, '提交新申请')),
    countsBox,
    filterForm,
    h('section', {'aria-labelledby': 'list-title'},
      h('h2', {id: 'list-title'}, `办件列表（${cases.length} 件${listed.data.next_cursor ? '，仅显示前 100 件' : ''}）`),
      cases.length ? caseTable(cases) : h('p', {}, '没有符合条件的办件。')));
  announcePage(main, '工作台');
  renderCounts(countsBox, nameOf);
}

function select(name, current, values, words) {
  return h('select', {name},
    h('option', {value: ''}, '全部'),
    values.map((v) => h('option', {value: v, selected: v === current}, words(v))));
}

function caseTable(cases) {
  return h('div', {class: 'table-wrap'}, h('table', {class: 'cases'},
    h('thead', {}, h('tr', {}, ['办件编号', '事项', '申请人', '状态', '环节', '灯', '承诺办结'].map((t) =>
      h('th', {scope: 'col'}, t)))),
    h('tbody', {}, cases.map((c) => {
      const clock = c.clock || {};
      return h('tr', {},
        h('th', {scope: 'row'}, h('a', {href: `#/cases/${enc(c.id)}`}, c.number || c.id)),
        h('td', {}, caseTitle(c)),
        h('td', {}, c.applicant?.name || ''),
        h('td', {}, statusWords(c.status, c.status_title)),
        h('td', {}, c.step_title || ''),
        h('td', {}, lightBadge(clock.light || c.light)),
        h('td', {}, dueDate(clock.promised_due, clock.provisional)));
    }))));
}

// Counts by light, status, item and organ: GET /v1/cases/counts where the server has it, else
// counted here from the cases in scope (one page of up to 500).
async function renderCounts(box, nameOf) {
  let groups;
  let note = '';
  try {
    const {data} = await request('/v1/cases/counts');
    groups = normalizeCounts(data);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) {
      replace(box, h('h2', {id: 'counts-title'}, '办件统计'), problemBox(e, '无法统计'));
      return;
    }
    try {
      const {data} = await request('/v1/cases?limit=500');
      const cases = data.cases || [];
      groups = {
        light: tally(cases, (c) => c.clock?.light || c.light),
        status: tally(cases, (c) => c.status),
        definition: tally(cases, (c) => c.definition?.id),
        organ: tally(cases, (c) => c.organ?.id || c.lead_organ?.id || c.organ),
      };
      note = data.next_cursor ? '（按前 500 件统计）' : '';
    } catch (e2) {
      replace(box, h('h2', {id: 'counts-title'}, '办件统计'), problemBox(e2, '无法统计'));
      return;
    }
  }
  const headings = {light: '按灯', status: '按状态', definition: '按事项', organ: '按办理机关'};
  replace(box, h('h2', {id: 'counts-title'}, `办件统计${note}`),
    h('div', {class: 'count-groups'}, FILTERS.map((k) => h('div', {class: 'count-group'},
      h('h3', {}, headings[k]),
      (groups[k] || []).length === 0 ? h('p', {class: 'hint'}, '无') :
        h('ul', {}, groups[k].map(([value, count]) => h('li', {},
          h('a', {href: `#/cases?${k}=${enc(value)}`, 'data-count': `${k}:${value}`},
            k === 'light' ? lightBadge(value) : nameOf[k](value), ' ',
            h('span', {class: 'count'}, `${count} 件`)))))))));
}

function tally(cases, key) {
  const counts = new Map();
  for (const c of cases) {
    const k = key(c);
    if (k) counts.set(k, (counts.get(k) || 0) + 1);
  }
  return [...counts.entries()];
}

// Accepts {light: {green: 3}} or {by_light: [{light|value|key|id: "green", count: 3}]} shapes.
function normalizeCounts(data) {
  const out = {};
  for (const k of FILTERS) {
    const group = data?.[k] ?? data?.[`by_${k}`] ?? data?.[`${k}s`] ?? data?.counts?.[k];
    if (Array.isArray(group)) {
      out[k] = group.map((e) => [e[k] ?? e.value ?? e.key ?? e.id ?? e.name, e.count ?? e.n]);
    } else if (group && typeof group === 'object') {
      out[k] = Object.entries(group);
    } else {
      out[k] = [];
    }
  }
  return out;
}

// ---- One case ----------------------------------------------------------------------------------

async function renderCase(main, id, flash) {
  loading(main);
  let reply;
  try {
    reply = await request(`/v1/cases/${enc(id)}`);
  } catch (e) {
    replace(main, h('h1', {}, '办件'), problemBox(e, '无法读取办件'),
      h('p', {}, h('a', {href: '#/cases'}, '返回工作台')));
    announcePage(main, '办件');
    return;
  }
  const c = reply.data;
  const etag = reply.headers.get('ETag');
  const isBundle = c.kind === 'bundle' || Array.isArray(c.parts);
  let def = null;
  try {
    def = await definition(c.definition?.id || c.definition, c.definition?.version);
  } catch {
    def = null;  // names fall back to ids
  }
  const status = liveRegion();
  const title = caseTitle(c) || def?.title || '办件';
  replace(main,
    h('p', {class: 'breadcrumb no-print'}, h('a', {href: '#/cases'}, '工作台'), ' › ', c.number || c.id),
    h('h1', {}, `${title} ${c.number || ''}`),
    status,
    h('section', {class: 'card summary', 'aria-labelledby': 'case-summary'},
      h('h2', {id: 'case-summary'}, '概况'),
      h('p', {class: 'status-line'}, h('span', {class: `status status-${c.status}`},
        statusWords(c.status, c.status_title)), ' ',
      FINAL_STATUSES.has(c.status) ? null : lightBadge(c.clock?.light || c.light)),
      facts([
        ['办件编号', c.number],
        ['申请人', c.applicant ? `${c.applicant.name || c.applicant.id}${c.applicant.credit_code ? `（${c.applicant.credit_code}）` : ''}` : null],
        ['办理机关', (def?.organ?.id === c.organ ? def.organ.name : caseOrgan(c)) || null],
        ['当前环节', c.step_title],
        ['办理方式', c.mode === 'commitment' ? '告知承诺' : null],
        ['提交时间', c.created_at ? formatTime(c.created_at) : null],
        ['受理时间', c.accepted_at ? formatTime(c.accepted_at) : null],
        ['办理结果', c.decision ? DECISION[c.decision] || c.decision : null],
        ['决定理由', c.decision_reason || null],
        ['出具名义', c.issued_in?.name ? `${c.issued_in.name}（${c.issued_in.seal}）` : null],
        ['事后核查', c.verification && c.verification.status !== 'none' ? VERIFICATION[c.verification.status] : null],
        ['版本', c.version !== undefined ? String(c.version) : null],
      ]),
      h('p', {class: 'no-print'},
        h('a', {href: `#/audit/${enc(c.id)}`}, '查看办理历史（审计）'),
        c.query_code ? [' · ', h('a', {href: `/track/${enc(c.number)}?code=${enc(c.query_code)}`}, '公开查询页')] : null)),
    actionsSection(c, etag, def, main),
    c.clock && !isBundle ? clockSection(c.clock) : null,
    isBundle ? partsSection(c) : materialsSection(c, def),
    formSection(c, def));
  announcePage(main, `${title} ${c.number || ''}`);
  if (flash) status.textContent = flash;
}

function clockSection(clock) {
  const days = (n) => (n === null || n === undefined ? null : `${n} 个工作日`);
  return h('section', {class: 'card', 'aria-labelledby': 'case-clock'},
    h('h2', {id: 'case-clock'}, '办理时限'),
    facts([
      ['灯', lightBadge(clock.light)],
      ['计时', clock.stopped ? '已停止' : clock.paused ? '已暂停（特别程序）' : clock.started ? '计时中' : '未开始（待受理）'],
      ['受理期限', dueDate(clock.acceptance_deadline, clock.provisional)],
      ['承诺办结日期', dueDate(clock.promised_due, clock.provisional)],
      ['法定办结日期', dueDate(clock.statutory_due, clock.provisional)],
      ['已用', clock.started ? days(clock.working_days_used) : null],
      ['承诺时限剩余', clock.started ? days(clock.promised_days_left) : null],
      ['法定时限剩余', clock.started ? (clock.statutory_unit === 'natural_days'
        ? `${clock.statutory_days_left} 日（自然日）` : days(clock.statutory_days_left)) : null],
      ['暂停', clock.paused_working_days ? days(clock.paused_working_days) : null],
      ['延长', clock.extension_days ? days(clock.extension_days) : null],
      ['本环节期限', clock.step ? [dueDate(clock.step.due, clock.provisional), `（剩余 ${clock.step.days_left} 个工作日）`] : null],
      ['核查期限', clock.verification ? dueDate(clock.verification.due, clock.provisional) : null],
      ['证件送达期限', clock.delivery ? [dueDate(clock.delivery.due, clock.delivery.due_provisional), ' ',
        lightBadge(clock.delivery.light),
        clock.delivery.overdue ? '（逾期）' : clock.delivery.delivered ? '（已送达）'
          : `（剩余 ${clock.delivery.days_left} 个工作日）`] : null],
    ]));
}

function materialsSection(c, def) {
  const supplied = new Set(c.materials || []);
  const missing = new Set(c.missing_materials || []);
  const all = (def?.materials || []).map((m) => m.id);
  for (const id of [...supplied, ...missing]) if (!all.includes(id)) all.push(id);
  const necessity = (id) => {
    const n = (def?.materials || []).find((m) => m.id === id)?.necessity;
    return {required: '必交', optional: '选交', deferrable: '容缺后补', conditional: '视情形'}[n] || n || '';
  };
  return h('section', {class: 'card', 'aria-labelledby': 'case-materials'},
    h('h2', {id: 'case-materials'}, '材料清单'),
    h('div', {class: 'table-wrap'}, h('table', {class: 'materials'},
      h('thead', {}, h('tr', {}, ['材料', '要求', '情况'].map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, all.map((id) => h('tr', {},
        h('th', {scope: 'row'}, materialName(def, id)),
        h('td', {}, necessity(id)),
        h('td', {class: missing.has(id) ? 'missing' : supplied.has(id) ? 'supplied' : ''},
          missing.has(id) ? '✗ 需补正' : supplied.has(id) ? '✓ 已提交' : '— 未提交')))))));
}

function partsSection(c) {
  return h('section', {class: 'card', 'aria-labelledby': 'case-parts'},
    h('h2', {id: 'case-parts'}, '一件事的各事项'),
    c.correction_notice?.materials?.length ? h('p', {class: 'notice'}, '有待补正的材料（合并告知）：',
      c.correction_notice.materials.map((m) => m.name || m.id || m).join('、')) : null,
    h('div', {class: 'table-wrap'}, h('table', {},
      h('thead', {}, h('tr', {}, ['事项', '办理机关', '状态', '办件', '说明'].map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, (c.parts || []).map((p) => h('tr', {},
        h('th', {scope: 'row'}, p.title || p.part),
        h('td', {}, p.organ?.name || p.organ || ''),
        h('td', {}, p.applies === false ? '不适用' : statusWords(p.status, p.status_title)),
        h('td', {}, p.case_id ? h('a', {href: `#/cases/${enc(p.case_id)}`}, p.case_number || p.case_id) : '—'),
        h('td', {}, p.note || '')))))));
}

function formSection(c, def) {
  const form = c.form || {};
  // In the order of the definition's form, then anything it does not name.
  const order = (def?.form?.fields || []).map((f) => f.id);
  const rank = (k) => (order.includes(k) ? order.indexOf(k) : order.length);
  const entries = Object.entries(form).sort(([a], [b]) => rank(a) - rank(b));
  if (!entries.length) return null;
  return h('section', {class: 'card', 'aria-labelledby': 'case-form'},
    h('h2', {id: 'case-form'}, '申请表'),
    facts(entries.map(([k, v]) => [formLabel(def, k),
      typeof v === 'boolean' ? (v ? '是' : '否') : typeof v === 'object' ? JSON.stringify(v) : String(v)])));
}

// ---- Actions -----------------------------------------------------------------------------------

function actionsSection(c, etag, def, main) {
  const actions = c.available_actions || [];
  const formBox = h('div', {class: 'action-form'});
  const section = h('section', {class: 'card actions', 'aria-labelledby': 'case-actions'},
    h('h2', {id: 'case-actions'}, '可办理的操作'),
    actions.length === 0 ? h('p', {}, '您在本办件的当前状态下没有可办理的操作。') :
      h('div', {class: 'action-buttons'}, actions.map((a) => h('button', {
        type: 'button', 'data-action': a.action, 'aria-expanded': 'false',
        onclick: (event) => {
          for (const b of section.querySelectorAll('[data-action]')) b.setAttribute('aria-expanded', 'false');
          event.currentTarget.setAttribute('aria-expanded', 'true');
          replace(formBox, actionForm(c, etag, def, a, main));
          formBox.querySelector('input, textarea, select, button[type=submit]')?.focus();
        }}, actionTitle(a.action, a.title)))),
    formBox);
  return section;
}

function actionForm(c, etag, def, offered, main) {
  const action = {...offered, title: actionTitle(offered.action, offered.title)};
  const message = h('div');
  const controls = [];
  for (const f of action.fields || []) {
    controls.push(fieldControl(f, def, c));
  }
  // An action whose own fields hold a comment (a rating's 评价意见) gets no second remark box:
  // both would be the action's one comment, and the engine refuses two different ones.
  const ownComment = (action.fields || []).some((f) => f.name === 'comment');
  const comment = ownComment ? null : h('textarea', {name: 'comment', rows: '2', maxlength: '4000'});
  const form = h('form', {class: 'card inner', 'data-form-action': action.action, onsubmit: async (event) => {
    event.preventDefault();
    const data = {};
    try {
      for (const control of controls) control.read(data);
    } catch (e) {
      replace(message, h('p', {class: 'problem', role: 'alert'}, e.message));
      return;
    }
    const body = {action: action.action};
    if (Object.keys(data).length) body.data = data;
    if (comment && comment.value.trim()) body.comment = comment.value.trim();
    const submit = form.querySelector('button[type=submit]');
    submit.disabled = true;
    try {
      await request(`/v1/cases/${enc(c.id)}/actions`, {method: 'POST', json: body,
        headers: etag ? {'If-Match': etag} : {}});
      await renderCase(main, c.id, `已办理：${action.title || action.action}`);
    } catch (e) {
      submit.disabled = false;
      replace(message, problemBox(e, `“${action.title || action.action}”未成功`));
      message.querySelector('[role=alert]')?.setAttribute('tabindex', '-1');
      message.querySelector('[role=alert]')?.focus();
    }
  }},
  h('h3', {}, action.title || action.action),
  h('p', {class: 'hint'}, `所需角色：${ROLE[action.role] || action.role}${action.party ? `（${action.party}）` : ''}`),
  controls.map((control) => control.element),
  comment ? field('备注（可选）', comment) : null,
  h('button', {type: 'submit', class: 'primary'}, `确认${action.title || action.action}`),
  message);
  return form;
}

// One control per action field: text → textarea, material_ids → checkboxes of the item's
// materials, choice (and an integer with choices: a rating's score) → radio buttons, object → JSON
// textarea. `read(data)` puts its value in.
function fieldControl(f, def, c) {
  const label = `${f.title || f.name}${f.required ? '（必填）' : ''}`;
  const hint = f.required_when ? `在 ${f.required_when} 时必填` : undefined;
  if (f.type === 'material_ids') {
    const ids = (def?.materials || []).map((m) => m.id);
    const boxes = ids.map((id) => {
      const box = h('input', {type: 'checkbox', name: f.name, value: id,
        id: uniqueId('m'), checked: (c.missing_materials || []).includes(id)});
      return h('div', {class: 'check'}, box, h('label', {for: box.id}, materialName(def, id)));
    });
    const element = h('fieldset', {class: 'field'}, h('legend', {}, label), boxes,
      hint ? h('p', {class: 'hint'}, hint) : null);
    return {element, read: (data) => {
      const chosen = [...element.querySelectorAll('input:checked')].map((b) => b.value);
      if (f.required && chosen.length === 0) throw new Error(`请选择“${f.title || f.name}”。`);
      if (chosen.length) data[f.name] = chosen;
    }};
  }
  if (f.type === 'choice' || (f.type === 'integer' && f.choices)) {
    const radios = (f.choices || []).map((choice, i) => {
      const radio = h('input', {type: 'radio', name: f.name, value: choice, id: uniqueId('c'),
        required: f.required && i === 0});
      return h('div', {class: 'check'}, radio, h('label', {for: radio.id}, CHOICE[choice] || choice));
    });
    const element = h('fieldset', {class: 'field'}, h('legend', {}, label), radios);
    return {element, read: (data) => {
      const chosen = element.querySelector('input:checked');
      if (chosen) data[f.name] = f.type === 'integer' ? Number(chosen.value) : chosen.value;
    }};
  }
  const input = h('textarea', {name: f.name, rows: f.type === 'object' ? '4' : '3', required: f.required,
    maxlength: f.type === 'object' ? null : '4000'});
  const element = field(label, input, f.type === 'object' ? 'JSON 对象' : hint);
  return {element, read: (data) => {
    const value = input.value.trim();
    if (!value) return;
    if (f.type === 'object') {
      try {
        data[f.name] = JSON.parse(value);
      } catch {
        throw new Error(`“${f.title || f.name}”不是正确的 JSON。`);
      }
    } else {
      data[f.name] = value;
    }
  }};
}

const CHOICE = {pass: '通过', breach: '承诺不实', approve: '准予', deny: '不予'};

// ---- A new application -------------------------------------------------------------------------

async function renderApplication(main) {
  loading(main);
  let defs;
  try {
    defs = await definitionList();
  } catch (e) {
    replace(main, h('h1', {}, '提交新申请'), problemBox(e, '无法读取事项'));
    return;
  }
  const chooser = h('select', {name: 'definition', required: true},
    h('option', {value: ''}, '请选择事项'),
    defs.map((d) => h('option', {value: d.id}, `${d.title}（${d.organ?.name || ''}）`)));
  const formBox = h('div');
  chooser.addEventListener('change', async () => {
    if (!chooser.value) return replace(formBox);
    const summary = defs.find((d) => d.id === chooser.value);
    try {
      const def = await definition(chooser.value, summary?.latest_version);
      replace(formBox, applicationForm(def, main));
    } catch (e) {
      replace(formBox, problemBox(e, '无法读取事项'));
    }
  });
  replace(main,
    h('p', {class: 'breadcrumb'}, h('a', {href: '#/cases'}, '工作台'), ' › 提交新申请'),
    h('h1', {}, '提交新申请'),
    h('div', {class: 'card'}, field('事项', chooser, '申请人本人登录后提交；窗口工作人员代为提交时填写申请人信息。')),
    formBox);
  announcePage(main, '提交新申请');
}

function applicationForm(def, main) {
  // An item wraps its fields in {fields: […]}; a bundle (一件事) gives the list itself.
  const fields = Array.isArray(def.form) ? def.form : (def.form?.fields || []);
  const controls = fields.map((f) => formFieldControl(f));
  // A bundle's materials that a part issues (证照共享: the business licence) are not the
  // applicant's to supply: listed as such, not offered.
  const issued = new Set((def.parts || []).flatMap((p) => p.issues || []));
  const materials = (def.materials || []).filter((m) => !issued.has(m.id)).map((m) => {
    const box = h('input', {type: 'checkbox', name: 'materials', value: m.id, id: uniqueId('m')});
    return h('div', {class: 'check'}, box, h('label', {for: box.id}, m.name,
      m.necessity === 'required' ? '（必交）' : ''));
  });
  const issuedNote = (def.materials || []).filter((m) => issued.has(m.id)).map((m) =>
    h('p', {class: 'hint issued-material'}, `${m.name}：由前序事项核发，经信息共享取得，无须提交。`));
  const applicant = {
    id: h('input', {name: 'applicant_id', autocomplete: 'off'}),
    name: h('input', {name: 'applicant_name', autocomplete: 'organization'}),
    credit_code: h('input', {name: 'applicant_credit_code', autocomplete: 'off'}),
  };
  const message = h('div');
  const form = h('form', {class: 'card', onsubmit: async (event) => {
    event.preventDefault();
    const body = {definition: def.id, version: def.version, form: {}, materials: []};
    for (const control of controls) control.read(body.form);
    body.materials = [...form.querySelectorAll('input[name=materials]:checked')].map((b) => b.value);
    if (applicant.id.value.trim()) {
      body.applicant = {id: applicant.id.value.trim(), name: applicant.name.value.trim(),
        credit_code: applicant.credit_code.value.trim()};
    }
    try {
      const {data} = await request('/v1/cases', {method: 'POST', json: body});
      location.hash = `#/cases/${enc(data.id)}`;
    } catch (e) {
      replace(message, problemBox(e, '申请未提交'));
      message.querySelector('[role=alert]')?.setAttribute('tabindex', '-1');
      message.querySelector('[role=alert]')?.focus();
    }
  }},
  h('h2', {}, def.title),
  h('fieldset', {}, h('legend', {}, '申请表'), controls.map((c) => c.element)),
  h('fieldset', {}, h('legend', {}, '提交的材料'), materials, issuedNote),
  h('details', {}, h('summary', {}, '代为申请（窗口工作人员、代办员）'),
    field('申请人编号', applicant.id), field('申请人名称', applicant.name),
    field('统一社会信用代码', applicant.credit_code)),
  h('button', {type: 'submit', class: 'primary'}, '提交申请'),
  message);
  return form;
}

// A control for a definition's form field: string, number, date, boolean or enum.
function formFieldControl(f) {
  const label = `${f.label || f.id}${f.required ? '（必填）' : ''}`;
  let input;
  if (f.type === 'enum') {
    input = h('select', {name: f.id, required: f.required},
      h('option', {value: ''}, '请选择'), (f.values || []).map((v) => h('option', {value: v}, v)));
  } else if (f.type === 'boolean') {
    input = h('input', {type: 'checkbox', name: f.id, id: uniqueId('b')});
    return {element: h('div', {class: 'check'}, input, h('label', {for: input.id}, f.label || f.id)),
      read: (form) => { form[f.id] = input.checked; }};
  } else {
    input = h('input', {name: f.id, required: f.required,
      type: f.type === 'number' ? 'number' : f.type === 'date' ? 'date' : 'text',
      step: f.type === 'number' ? 'any' : null});
  }
  return {element: field(label, input), read: (form) => {
    const value = input.value.trim();
    if (value === '') return;
    form[f.id] = f.type === 'number' ? Number(value) : value;
  }};
}

