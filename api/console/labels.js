// Words for the codes the API sends: statuses, lights, decisions, problem types, roles, actions.
// The API's own Chinese titles (status_title, action titles) win where it sends them.

export const STATUS = {
  submitted: '已提交，待受理',
  correction_pending: '待补正材料',
  under_review: '审查中',
  approved: '准予许可',
  denied: '不予许可',
  closed: '已办结',
  not_accepted: '不予受理',
  withdrawn: '已撤回',
  terminated: '已终止',
  revoked: '已撤销',
  // 一件事 (bundle) and its parts
  in_progress: '办理中',
  ready: '各项已办结，待送达',
  delivered: '已送达',
  waiting: '等待前序事项',
  awaiting_input: '待补充信息',
  blocked: '无法办理',
  not_applicable: '不适用',
};

export function statusWords(code, title) {
  return title || STATUS[code] || code || '';
}

export const LIGHT = {
  green: {words: '正常', long: '绿灯：时限内正常办理'},
  yellow: {words: '预警', long: '黄灯：临近办理时限'},
  red: {words: '超期', long: '红灯：已超过办理时限'},
};

export const DECISION = {
  approve: '准予许可', approved: '准予许可', deny: '不予许可', denied: '不予许可',
  grant: '准予', refuse: '拒绝',
};

export const ROLE = {
  applicant: '申请人', agent: '代办员', clerk: '窗口受理员', reviewer: '审查员',
  approver: '审批负责人', verifier: '核查员', auditor: '审计员', admin: '系统管理员',
  system: '系统', inspector: '现场核查员', expert_secretary: '专家评审组织人员',
};

export const VERIFICATION = {none: '无需核查', pending: '待核查', passed: '核查通过', breached: '核查发现承诺不实'};

// Problem types (https://tongban.dev/problems/<slug>) in plain words.
export const PROBLEM = {
  unauthenticated: '未登录，或令牌无效。请重新登录。',
  forbidden: '您没有进行此项操作的权限。',
  'not-found': '没有找到，或您无权查看。',
  'not-available': '办件当前的状态下不能进行此项操作。',
  conflict: '与已有的内容冲突。',
  'concurrent-change': '办件刚被他人修改，请刷新后重试。',
  'stale-version': '您打开办件后，它已被他人修改。请刷新，看过最新情况后再操作。',
  invalid: '提交的内容不符合要求，请按下面的提示修改。',
  'invalid-definition': '流程定义有错误，请按下面的提示修改。',
  'unknown-action': '没有这项操作。',
  'malformed-json': '内容不是正确的 JSON 格式。',
  'too-large': '提交的内容太大。',
  'case-damaged': '办件的记录已损坏，请联系系统管理员。',
  'data-loss': '存储的数据未通过校验，请联系系统管理员。',
  unavailable: '服务暂时不可用，请稍后再试。',
  overloaded: '服务繁忙，请稍后再试。',
  internal: '服务器内部错误，请稍后再试或联系系统管理员。',
  'headers-too-large': '请求头太大。',
  'malformed-header': '请求头格式错误。',
};

export function problemSlug(problem) {
  const type = problem?.type || '';
  return type.slice(type.lastIndexOf('/') + 1);
}

export function problemWords(error) {
  if (error.status === 0) return '无法连接服务器，请检查网络后重试。';
  const slug = problemSlug(error.problem);
  if (PROBLEM[slug]) return PROBLEM[slug];
  if (error.status === 404) return PROBLEM['not-found'];
  if (error.status === 401) return PROBLEM.unauthenticated;
  if (error.status === 403) return PROBLEM.forbidden;
  return `请求未成功（HTTP ${error.status}）。`;
}

// Actions by id, for the history's events, which carry no title; an offered action's own title
// (the engine's, in Chinese) wins.
export const ACTION_TITLE = {
  submit: '提交申请', accept: '受理', accept_and_decide: '受理并当场决定',
  request_correction: '一次性告知补正', supply_correction: '补正', supply_materials: '补交材料',
  refuse: '不予受理', withdraw: '撤回申请', transfer: '移交', suspend: '中止（特别程序，暂停计时）',
  resume: '恢复计时', extend: '延长期限', deliver: '送达', terminate: '终止办理', revoke: '撤销',
  verify: '事后核查', record_breach: '记录失信', deem_accepted: '逾期视为受理', mark_overdue: '标记逾期',
  mark_verification_overdue: '核查逾期', pass: '审查通过', approve: '准予许可', deny: '不予许可',
};

export function actionTitle(id, title) {
  return title || ACTION_TITLE[id] || id;
}

// Statuses after which the clock no longer matters to the applicant.
export const FINAL_STATUSES = new Set(['approved', 'denied', 'closed', 'not_accepted', 'withdrawn',
  'terminated', 'revoked', 'delivered']);
