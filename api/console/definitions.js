// Deployed definitions, read once per tab: the list, and each version's JSON (material names, form
// labels) for the pages that show a case.
import {enc, request} from './api.js';

let listPromise = null;
const versions = new Map();

export function definitionList() {
  if (!listPromise) {
    listPromise = request('/v1/definitions').then(({data}) => data.definitions || [],
      (e) => {
        listPromise = null;
        throw e;
      });
  }
  return listPromise;
}

export function definition(id, version) {
  const key = `${id}@${version || ''}`;
  if (!versions.has(key)) {
    const query = version ? `?version=${enc(version)}` : '';
    versions.set(key, request(`/v1/definitions/${enc(id)}${query}`).then(({data}) => data, (e) => {
      versions.delete(key);
      throw e;
    }));
  }
  return versions.get(key);
}

export function materialName(def, id) {
  const m = (def?.materials || []).find((x) => x.id === id);
  return m ? m.name : id;
}

export function formLabel(def, id) {
  const f = (def?.form?.fields || []).find((x) => x.id === id);
  return f ? f.label : id;
}

// After a deploy: the list and versions are read again.
export function forgetDefinitions() {
  listPromise = null;
  versions.clear();
}
