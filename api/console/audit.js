// 审计 (auditor): a case's hash-chained history as a timeline — who acted, in which role, under
// which authority (delegation, handling agreement, mandate, on behalf of whom) — with each event's
// hash; the verification of the chain; the case replayed "as of" a moment chosen in Beijing time;
// the ledger of the registers with its own chain check; and this month's indicators (赛马) by item.
import {enc, request} from './api.js';
import {announcePage, facts, field, h, liveRegion, replace} from './dom.js';
import {DECISION, ROLE, actionTitle, statusWords} from './labels.js';
import {dueDate, lightBadge, loading, problemBox, requireToken} from './ui.js';
import {DEFAULT_TIME_ZONE, formatTime, fromLocalInput, toLocalInput, zoneName} from './time.js';

export function renderAudit(main, rest) {
  requireToken(main, () => (rest[0] ? renderCaseAudit(main, rest[0]) : renderOverview(main)));
}

async function renderOverview(main) {
  loading(main);
  const caseInput = h('input', {name: 'case', required: true, autocomplete: 'off', spellcheck: 'false'});
  const ledgerBox = h('div', {}, h('p', {class: 'loading'}, '正在读取登记簿…'));
  const casesBox = h('div', {}, h('p', {class: 'loading'}, '正在读取办件…'));
  const indicatorsBox = h('div', {}, h('p', {class: 'loading'}, '正在读取指标…'));
  replace(main,
    h('h1', {}, '审计'),
    h('form', {class: 'card', onsubmit: (event) => {
      event.preventDefault();
      location.hash = `#/audit/${enc(caseInput.value.trim())}`;
    }}, field('办件 ID', caseInput, '查看该办件的完整历史、哈希链校验和任意时刻的状态。'),
    h('button', {type: 'submit', class: 'primary'}, '查看')),
    h('section', {class: 'card', 'aria-labelledby': 'recent-title'}, h('h2', {id: 'recent-title'}, '最近的办件'), casesBox),
    h('section', {class: 'card', 'aria-labelledby': 'indicators-title'}, h('h2', {id: 'indicators-title'}, '本月指标（按事项，按申请月份统计）'), indicatorsBox),
    h('section', {class: 'card', 'aria-labelledby': 'ledger-title'}, h('h2', {id: 'ledger-title'}, '登记簿（委托、信用记录、代办授权）'), ledgerBox));
  announcePage(main, '审计');
  request('/v1/cases?limit=20').then(({data}) => {
    const cases = data.cases || [];
    replace(casesBox, cases.length === 0 ? h('p', {}, '暂无办件。') : h('ul', {class: 'plain'}, cases.map((c) =>
      h('li', {}, h('a', {href: `#/audit/${enc(c.id)}`}, c.number || c.id), ' ',
        c.definition?.title || c.bundle?.title || c.title || '', ' · ', statusWords(c.status, c.status_title)))));
  }, (e) => replace(casesBox, problemBox(e, '无法读取办件')));
  request('/v1/indicators?by=item').then(({data}) => replace(indicatorsBox, indicatorsView(data)),
    (e) => replace(indicatorsBox, problemBox(e, '无法读取指标')));
  request('/v1/ledger').then(({data}) => replace(ledgerBox, ledgerView(data)),
    (e) => replace(ledgerBox, problemBox(e, '无法读取登记簿')));
}

function percent(share) {
  return share === null || share === undefined ? '—' : `${(share * 100).toFixed(1)}%`;
}

function indicatorsView(data) {
  const rows = data.rows || [];
  if (rows.length === 0) return h('p', {}, '本月暂无申请。');
  const columns = [
    ['事项', (r) => (r.key === null ? '合计' : r.name)],
    ['申请', (r) => String(r.counts.applications)],
    ['办结', (r) => String(r.counts.decided)],
    ['法定时限内', (r) => percent(r.rates.on_time_statutory)],
    ['承诺时限内', (r) => percent(r.rates.on_time_promised)],
    ['平均用时（工作日）', (r) => (r.rates.average_working_days ?? '—').toString()],
    ['补正率', (r) => percent(r.rates.correction_notices)],
    ['受理即办结', (r) => percent(r.rates.decided_at_acceptance)],
    ['撤回', (r) => String(r.counts.withdrawn)],
    ['不予许可', (r) => String(r.counts.denied)],
    ['逾期在办', (r) => String(r.counts.overdue_now)],
    ['核查失信', (r) => String(r.counts.verification_breaches)],
    ['网上/窗口/代办', (r) => `${r.counts.channel_online}/${r.counts.channel_window}/${r.counts.channel_agent}`],
    ['跑动次数', (r) => String(r.counts.visits)],
  ];
  return h('div', {class: 'table-wrap'}, h('table', {},
    h('thead', {}, h('tr', {}, columns.map(([title]) => h('th', {scope: 'col'}, title)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, columns.map(([, cell]) => h('td', {}, cell(r))))))));
}

function ledgerView(data) {
  const entries = data.entries || [];
  const verify = data.verify || {};
  return [
    verifyBadge(verify.ok, verify.ok ? `登记簿哈希链校验通过（${verify.entries ?? entries.length} 条）`
      : `登记簿哈希链校验未通过：第 ${verify.first_bad_seq} 条，${verify.reason || ''}`),
    entries.length === 0 ? h('p', {}, '登记簿暂无记录。') : h('div', {class: 'table-wrap'}, h('table', {},
      h('thead', {}, h('tr', {}, ['序号', '时间', '类别', '对象', '操作人', '哈希'].map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, entries.map((e) => h('tr', {},
        h('td', {}, String(e.seq)),
        h('td', {}, formatTime(e.time)),
        h('td', {}, LEDGER_KIND[e.kind] || e.kind),
        h('td', {}, e.subject || ''),
        h('td', {}, actorWords(e.actor)),
        h('td', {}, hashCode(e.hash))))))),
  ];
}

const LEDGER_KIND = {
  'delegation.added': '新增委托', 'delegation.revoked': '撤销委托', 'credit.recorded': '记入信用记录',
  'credit.repaired': '信用修复', 'mandate.granted': '代办授权', 'mandate.revoked': '撤销代办授权',
};

function verifyBadge(ok, text) {
  return h('p', {class: `verify ${ok ? 'verify-ok' : 'verify-bad'}`, 'data-verify': ok ? 'ok' : 'bad'},
    h('span', {'aria-hidden': 'true'}, ok ? '✓ ' : '✗ '), text);
}

function hashCode(hash) {
  return hash ? h('code', {class: 'hash', title: hash}, `${hash.slice(0, 16)}…`) : '';
}

function actorWords(actor) {
  if (!actor) return '';
  const role = ROLE[actor.role] || actor.role || '';
  return [actor.name || actor.id, role ? `（${role}${actor.organ && actor.organ !== '*' ? `，${actor.organ}` : ''}）` : '']
    .filter(Boolean).join('');
}

// The authority an event records: on what basis the actor's organ acted.
function authorityWords(data) {
  const parts = [];
  const a = data?.authority;
  if (a) {
    const basis = {
      implementing_organ: '本机关实施', all_organs: '全部机关', delegation: '委托',
      handling_agreement: '收受分离协议', joint_party: '联合审查方', bundle_lead_organ: '一件事牵头机关',
    }[a.basis] || a.basis;
    let text = `依据：${basis}`;
    if (a.delegation) text += ` ${a.delegation}${a.delegated_by ? `（委托方 ${a.delegated_by}）` : ''}`;
    if (a.agreement) text += ` ${a.agreement}`;
    if (a.issued_in_name) text += `；以 ${a.issued_in_name} 名义出具`;
    parts.push(text);
  }
  if (data?.mandate) parts.push(`代办授权：${data.mandate}`);
  if (data?.on_behalf_of) parts.push(`代表申请人：${data.on_behalf_of}`);
  return parts;
}

async function renderCaseAudit(main, id) {
  loading(main);
  let history;
  let current;
  try {
    [history, current] = await Promise.all([
      request(`/v1/cases/${enc(id)}/history`), request(`/v1/cases/${enc(id)}`)]);
  } catch (e) {
    replace(main, h('h1', {}, '审计'), problemBox(e, '无法读取办件历史'),
      h('p', {}, h('a', {href: '#/audit'}, '返回审计')));
    announcePage(main, '审计');
    return;
  }
  const events = history.data.events || [];
  const c = current.data;
  const timeZone = DEFAULT_TIME_ZONE;
  const verifyBox = h('div', {}, h('p', {class: 'loading'}, '正在校验哈希链…'));
  const asOfResult = h('div', {class: 'as-of-result'});
  const asOfStatus = liveRegion();
  const last = events.length ? events[events.length - 1].time : c.updated_at;
  const asOfInput = h('input', {type: 'datetime-local', name: 'at', required: true, step: '60',
    value: last ? toLocalInput(last, timeZone) : ''});
  const title = c.definition?.title || c.bundle?.title || c.title || '';
  replace(main,
    h('p', {class: 'breadcrumb no-print'}, h('a', {href: '#/audit'}, '审计'), ' › ', c.number || id),
    h('h1', {}, `办件历史 ${c.number || id}`),
    h('p', {class: 'lead'}, title, ' · 当前状态：', statusWords(c.status, c.status_title),
      ' · ', h('a', {href: `#/cases/${enc(id)}`}, '在工作台打开')),
    h('section', {class: 'card', 'aria-labelledby': 'verify-title'}, h('h2', {id: 'verify-title'}, '哈希链校验'), verifyBox),
    h('section', {class: 'card', 'aria-labelledby': 'asof-title'},
      h('h2', {id: 'asof-title'}, '回放到某一时刻'),
      h('form', {class: 'inline-form', onsubmit: async (event) => {
        event.preventDefault();
        const at = fromLocalInput(asOfInput.value, timeZone);
        if (!at) return;
        asOfStatus.textContent = '正在回放…';
        try {
          const {data} = await request(`/v1/cases/${enc(id)}?at=${enc(at)}`);
          replace(asOfResult, asOfView(data, asOfInput.value));
          asOfStatus.textContent = `已回放到 ${formatTime(at, timeZone)}`;
        } catch (e) {
          asOfStatus.textContent = '';
          replace(asOfResult, problemBox(e, '回放未成功'));
        }
      }},
      field(`时刻（${zoneName(timeZone)}）`, asOfInput),
      h('button', {type: 'submit', class: 'primary'}, '回放')),
      asOfStatus, asOfResult),
    h('section', {class: 'card', 'aria-labelledby': 'history-title'},
      h('h2', {id: 'history-title'}, `办理历史（${events.length} 个事件）`),
      h('ol', {class: 'audit-timeline'}, events.map((e) => eventView(e, timeZone)))));
  announcePage(main, `办件历史 ${c.number || id}`);
  request(`/v1/cases/${enc(id)}/verify`).then(({data}) => replace(verifyBox,
    verifyBadge(data.ok, data.ok ? '哈希链、回放和快照均校验通过' :
      `校验未通过：第 ${data.first_bad_seq} 个事件，${data.reason || ''}`)),
  (e) => replace(verifyBox, problemBox(e, '无法校验')));
}

function eventView(e, timeZone) {
  const authority = authorityWords(e.data);
  const data = {...(e.data || {})};
  const comment = typeof data.comment === 'string' ? data.comment : null;
  for (const k of ['authority', 'mandate', 'on_behalf_of', 'comment']) delete data[k];
  const dataText = Object.keys(data).length ? JSON.stringify(data) : '';
  return h('li', {class: 'audit-event', 'data-seq': e.seq},
    h('div', {class: 'event-head'},
      h('span', {class: 'seq'}, `#${e.seq}`), ' ',
      h('time', {datetime: e.time}, formatTime(e.time, timeZone)), ' ',
      h('strong', {}, actionTitle(e.action)), ' → ',
      statusWords(e.status)),
    facts([
      ['操作人', actorWords(e.actor)],
      ['权限', authority.length ? authority.join('；') : null],
      ['意见', comment],
      ['数据', !dataText ? null : dataText.length <= 120 ? h('code', {class: 'data'}, dataText)
        : h('details', {}, h('summary', {}, `展开数据（${Object.keys(data).length} 项）`),
          h('pre', {class: 'data'}, JSON.stringify(data, null, 2)))],
      ['哈希', hashCode(e.hash)],
      ['前一哈希', hashCode(e.prev_hash)],
    ], {class: 'facts single'}));
}

function asOfView(c, local) {
  const clock = c.clock || {};
  return h('div', {class: 'card inner', 'data-as-of': local},
    h('h3', {}, `${local.replace('T', ' ')} 时的办件`),
    facts([
      ['状态', statusWords(c.status, c.status_title)],
      ['环节', c.step_title || c.step],
      ['版本', String(c.version)],
      ['灯', lightBadge(clock.light)],
      ['承诺办结日期', dueDate(clock.promised_due, clock.provisional)],
      ['办理结果', c.decision ? DECISION[c.decision] || c.decision : null],
      ['视为时刻', c.as_of ? formatTime(c.as_of) : null],
    ]));
}
