// The console's router. Pages:
//   /track/{number}?code=   public tracking (no login): the link a notice or text message carries
//   /#/track                the tracking form (also the home page)
//   /#/cases, /#/cases/{id} staff workbench: case lists with counts, a case and its actions
//   /#/definitions[/{id}[/{version}]]   modeller: definitions, graph, JSON, validate, deploy
//   /#/audit[/{id}]         auditor: ledger; a case's history, verification and "as of" replay
import {setToken, token} from './api.js';
import {h, replace} from './dom.js';
import {renderAudit} from './audit.js';
import {renderModeller} from './modeller.js';
import {renderTrackForm, renderTracking} from './track.js';
import {renderWorkbench} from './workbench.js';

const main = document.getElementById('main');

// Each page renders into a view of its own: a page still loading when the person has moved on
// writes into a view no longer in the document, never over the page that replaced it.
function newView() {
  const view = h('div', {class: 'view'});
  replace(main, view);
  return view;
}

function route() {
  const view = newView();
  const path = location.pathname;
  if (path.startsWith('/track/')) {
    const number = decodeURIComponent(path.slice('/track/'.length));
    const code = new URLSearchParams(location.search).get('code') || '';
    markNav('track');
    return renderTracking(view, number, code);
  }
  const hash = location.hash.startsWith('#/') ? location.hash.slice(2) : '';
  const [hashPath, hashQuery = ''] = hash.split('?');
  const [section, ...rest] = hashPath.split('/').map(decodeURIComponent);
  const params = new URLSearchParams(hashQuery);
  markNav(section || 'track');
  switch (section) {
    case 'cases':
      return renderWorkbench(view, rest, params);
    case 'definitions':
      return renderModeller(view, rest);
    case 'audit':
      return renderAudit(view, rest);
    default:
      return renderTrackForm(view);
  }
}

function markNav(section) {
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function renderSession() {
  const box = document.getElementById('session');
  if (!token()) {
    replace(box, h('span', {class: 'hint'}, '未登录'));
    return;
  }
  replace(box, h('span', {}, '已登录'), ' ',
    h('button', {type: 'button', class: 'link', onclick: () => {
      setToken('');
      renderSession();
      route();
    }}, '退出'));
}

window.addEventListener('hashchange', route);
// The skip link moves focus without touching the hash (the hash is the page).
document.querySelector('.skip').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
document.addEventListener('tongban:session', renderSession);
renderSession();
route();
