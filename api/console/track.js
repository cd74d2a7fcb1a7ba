// 办件进度查询: public tracking by number and query code, no login. Shows what the applicant is
// entitled to see (the API decides that): status in words, steps with organ and time, the reason
// of a refusal, denial or correction notice and what is missing, working days, due dates (预计
// where provisional), a special procedure's announced duration, every part of a bundle.
import {ApiError, enc, request} from './api.js';
import {announcePage, facts, field, h, replace} from './dom.js';
import {DECISION, FINAL_STATUSES, statusWords} from './labels.js';
import {dueDate, lightBadge, loading, problemBox} from './ui.js';
import {DEFAULT_TIME_ZONE, formatTime, zoneName} from './time.js';

// Who acted, when no organ is named (the public never sees a person).
const ACTOR_WORDS = {applicant: '申请人', system: '系统（期限届满自动处理）'};

export function renderTrackForm(main, number = '', code = '') {
  const numberInput = h('input', {name: 'number', required: true, value: number,
    autocomplete: 'off', spellcheck: 'false', inputmode: 'text'});
  const codeInput = h('input', {name: 'code', required: true, value: code, autocomplete: 'off',
    spellcheck: 'false'});
  const form = h('form', {class: 'card track-form', onsubmit: (event) => {
    event.preventDefault();
    // The stable link: /track/{number}?code={code}.
    location.assign(`/track/${enc(numberInput.value.trim())}?code=${enc(codeInput.value.trim())}`);
  }},
  field('办件编号', numberInput, '受理回执或短信中的办件编号，例如 TB-2026-000001。'),
  field('查询码', codeInput, '提交申请时获得的查询码。'),
  h('button', {type: 'submit', class: 'primary'}, '查询'));
  replace(main,
    h('h1', {}, '办件进度查询'),
    h('p', {class: 'lead'}, '输入办件编号和查询码，无需登录即可查看办理进度。'),
    form,
    h('section', {class: 'card', 'aria-labelledby': 'staff-entry'},
      h('h2', {id: 'staff-entry'}, '工作人员入口'),
      h('ul', {class: 'entries'},
        h('li', {}, h('a', {href: '/#/cases'}, '工作台'), '：受理、审查、决定办件'),
        h('li', {}, h('a', {href: '/#/definitions'}, '流程建模'), '：查看流程图、校验和部署流程定义'),
        h('li', {}, h('a', {href: '/#/audit'}, '审计'), '：办件历史、哈希链校验和登记簿'))));
  announcePage(main, '办件进度查询');
}

export async function renderTracking(main, number, code) {
  loading(main, '正在查询办件进度…');
  let data;
  try {
    ({data} = await request(`/v1/track/${enc(number)}?code=${enc(code)}`, {auth: false}));
  } catch (e) {
    renderTrackForm(main, number, code);
    const words = e instanceof ApiError && e.status === 404
      ? h('div', {class: 'problem', role: 'alert'}, h('h2', {}, '未查到该办件'),
        h('p', {}, '请核对办件编号和查询码后重试。'))
      : problemBox(e, '查询未成功');
    main.querySelector('form').after(words);
    return;
  }
  const timeZone = data.time_zone || DEFAULT_TIME_ZONE;
  const when = (t) => formatTime(t, timeZone);
  const isBundle = Array.isArray(data.parts);
  const title = isBundle ? data.bundle : data.item;
  replace(main,
    h('h1', {}, '办件进度查询'),
    h('section', {class: 'card summary', 'aria-labelledby': 'track-title'},
      h('h2', {id: 'track-title'}, title || '办件'),
      h('p', {class: 'status-line'}, h('span', {class: `status status-${data.status}`},
        statusWords(data.status, data.status_title)), ' ',
      FINAL_STATUSES.has(data.status) ? null : lightBadge(data.light)),
      facts([
        ['办件编号', data.number],
        ['办理机关', data.organ],
        ['当前环节', data.step_title],
        ['办理结果', data.decision ? DECISION[data.decision] || data.decision : null],
        ['所属一件事', !isBundle && data.bundle ? data.bundle : null],
        ['收件窗口', data.received_by],
        ['转交时间', data.transferred_at ? when(data.transferred_at) : null],
      ])),
    deadlines(data),
    data.special_procedure ? specialProcedure(data.special_procedure, when) : null,
    reasonSection(data, when),
    isBundle ? partsSection(data.parts) : null,
    !isBundle ? stepsSection(data, when) : null,
    h('p', {class: 'hint'}, `以上时间均为${zoneName(timeZone)}。`),
    h('p', {class: 'no-print'},
      h('button', {type: 'button', onclick: () => window.print()}, '打印本页'), ' ',
      h('a', {href: '/#/track'}, '查询其他办件')));
  announcePage(main, `${title || '办件'} · 办件进度`);
}

function deadlines(data) {
  const dates = data.due_dates || {};
  const provisional = Boolean(data.provisional);
  const promised = dates.promised || (data.due ? {date: data.due, provisional} : null);
  const statutory = dates.statutory ||
    (data.statutory_due ? {date: data.statutory_due, provisional} : null);
  const acceptance = dates.acceptance_deadline;
  const days = data.working_days;
  const delivery = data.delivery;
  const rows = [
    ['承诺办结日期', promised ? dueDate(promised.date, promised.provisional) : null],
    ['法定办结日期', statutory ? dueDate(statutory.date, statutory.provisional) : null],
    ['受理期限', acceptance ? dueDate(acceptance.date, acceptance.provisional) : null],
    ['证件送达期限', delivery?.due ? [dueDate(delivery.due.date, delivery.due.provisional), ' ',
      lightBadge(delivery.light),
      delivery.delivered_at ? (delivery.overdue ? '（已逾期送达）' : '（已送达）')
        : delivery.overdue ? '（已逾期，尚未送达）' : `（剩余 ${delivery.days_left} 个工作日）`] : null],
  ];
  if (Array.isArray(data.parts) && data.due) {
    rows[0][1] = dueDate(data.due, data.due_provisional);
  }
  for (const stage of Array.isArray(data.stages) ? data.stages : []) {
    rows.push([`${stage.title}承诺办结`, stage.due
      ? [dueDate(stage.due.date, stage.due.provisional), ' ', lightBadge(stage.light)]
      : '该阶段尚未开始']);
  }
  if (days) {
    const unit = (u) => (u === 'natural_days' ? '日' : '个工作日');
    rows.push(['已用工作日', `${days.used} 个工作日`]);
    if (days.left !== undefined && days.left !== null) {
      rows.push(['剩余时限', `承诺时限剩余 ${days.left} ${unit(days.unit)}` +
        (days.statutory_left !== undefined && days.statutory_left !== null
          ? `，法定时限剩余 ${days.statutory_left} ${unit(days.statutory_unit)}` +
            (days.statutory_unit === 'natural_days' ? '（自然日）' : '') : '')]);
    }
    if (days.paused) rows.push(['暂停计时', `${days.paused} 个工作日（不计入办理时限）`]);
    if (days.extension) rows.push(['延长期限', `${days.extension} 个工作日`]);
  }
  if (data.paused) rows.push(['计时状态', '计时已暂停']);
  const anyProvisional = rows.some(([, v]) => v instanceof Node && v.querySelector?.('.provisional'));
  if (rows.every(([, v]) => v === null || v === undefined)) return null;
  return h('section', {class: 'card', 'aria-labelledby': 'track-dates'},
    h('h2', {id: 'track-dates'}, '办理时限'),
    facts(rows),
    anyProvisional ? h('p', {class: 'hint'},
      '标注“预计”的日期跨入节假日安排尚未公布的年度，按常规工作日推算，公布后可能调整。') : null);
}

function specialProcedure(p, when) {
  return h('section', {class: 'card', 'aria-labelledby': 'track-special'},
    h('h2', {id: 'track-special'}, '特别程序'),
    facts([
      ['程序', p.title || p.kind],
      ['所在环节', p.step_title],
      ['开始时间', p.started_at ? when(p.started_at) : null],
      ['公告时长', p.announced_days !== null && p.announced_days !== undefined
        ? `${p.announced_days} 个工作日` : null],
      ['预计结束', p.ends_by ? dueDate(p.ends_by.date, p.ends_by.provisional) : null],
      ['剩余', p.days_left !== null && p.days_left !== undefined ? `${p.days_left} 个工作日` : null],
      ['说明', p.reason],
    ]),
    h('p', {class: 'hint'}, '特别程序所需时间不计入办理时限。'));
}

function reasonSection(data, when) {
  const reason = data.reason;
  const missing = (reason && reason.missing) || data.missing || [];
  if (!reason && missing.length === 0) return null;
  const heading = reason ? reason.title || REASON_TITLE[reason.kind] || '说明' : '尚缺材料';
  return h('section', {class: 'card notice', 'aria-labelledby': 'track-reason'},
    h('h2', {id: 'track-reason'}, heading),
    reason && reason.text ? h('p', {class: 'reason-text'}, reason.text) : null,
    reason && reason.time ? h('p', {class: 'hint'}, `告知时间：${when(reason.time)}`) : null,
    missing.length ? h('div', {},
      h('h3', {}, '需要补正或补交的材料'),
      h('ul', {class: 'missing'}, missing.map((m) => h('li', {}, m.name || m.id)))) : null);
}

const REASON_TITLE = {
  correction: '补正材料告知', refusal: '不予受理理由', denial: '不予许可理由',
  not_accepted: '不予受理理由', denied: '不予许可理由',
};

function stepsSection(data, when) {
  const steps = Array.isArray(data.steps) ? data.steps : [];
  const timeline = Array.isArray(data.timeline) ? data.timeline : [];
  return h('section', {class: 'card', 'aria-labelledby': 'track-steps'},
    h('h2', {id: 'track-steps'}, '办理过程'),
    steps.length ? h('ol', {class: 'steps'}, steps.map((s) => h('li', {class: `step step-${s.state}`},
      h('span', {class: 'step-title'}, s.title || s.id),
      h('span', {class: 'step-state'}, STEP_STATE[s.state] || s.state || ''),
      s.organ ? h('span', {class: 'step-organ'}, s.organ) : null,
      (s.party_organs || []).length ? h('span', {class: 'step-organ'}, `会同：${s.party_organs.join('、')}`) : null,
      s.time || s.entered_at ? h('time', {datetime: s.time || s.entered_at}, when(s.time || s.entered_at)) : null))) : null,
    timeline.length ? h('div', {},
      h('h3', {}, '办理记录'),
      h('ol', {class: 'timeline'}, timeline.map((t) => h('li', {},
        h('time', {datetime: t.time}, when(t.time)), ' ',
        h('span', {class: 'timeline-status'}, statusWords(t.status, t.status_title)),
        t.action_title ? h('span', {}, `（${t.action_title}）`) : null,
        t.organ || t.by ? h('span', {class: 'step-organ'}, t.organ || ACTOR_WORDS[t.by] || t.by) : null)))) : null);
}

const STEP_STATE = {done: '已完成', current: '办理中', pending: '待办理', skipped: '未经过',
  active: '办理中', waiting: '待办理'};

function partsSection(parts) {
  return h('section', {class: 'card', 'aria-labelledby': 'track-parts'},
    h('h2', {id: 'track-parts'}, '各事项办理情况'),
    h('div', {class: 'table-wrap'}, h('table', {},
      h('thead', {}, h('tr', {}, ['事项', '办理机关', '状态', '办件编号', '承诺办结', '说明'].map((t) =>
        h('th', {scope: 'col'}, t)))),
      h('tbody', {}, parts.map((p) => h('tr', {},
        h('th', {scope: 'row'}, p.title || p.part),
        h('td', {}, p.organ || ''),
        h('td', {}, statusWords(p.status, p.status_title), ' ', lightBadge(p.light)),
        h('td', {}, p.number || '—'),
        h('td', {}, p.due ? dueDate(p.due, p.due_provisional) : '—'),
        h('td', {}, p.reason?.text || p.note || (p.decision ? DECISION[p.decision] || p.decision : '')))))))); 
}

