// Times for people: in the calendar's time zone (Beijing time unless the API says otherwise),
// written the Chinese way — 2026年3月2日 10:05. Machine fields stay RFC 3339.

export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

const formats = new Map();
function format(timeZone, options) {
  const key = timeZone + JSON.stringify(options);
  if (!formats.has(key)) {
    formats.set(key, new Intl.DateTimeFormat('zh-CN', {timeZone, ...options}));
  }
  return formats.get(key);
}

// "2026-03-02T02:05:00.000Z" → "2026年3月2日 10:05" (in `timeZone`).
export function formatTime(rfc3339, timeZone = DEFAULT_TIME_ZONE) {
  if (!rfc3339) return '';
  const date = new Date(rfc3339);
  if (Number.isNaN(date.getTime())) return String(rfc3339);
  return format(timeZone, {
    year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit',
    hourCycle: 'h23',
  }).format(date);
}

// A calendar day "2026-03-16" → "2026年3月16日" (a day, not an instant: no time zone applies).
export function formatDay(isoDay) {
  if (!isoDay) return '';
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDay);
  if (!match) return String(isoDay);
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return format('UTC', {year: 'numeric', month: 'long', day: 'numeric'}).format(date);
}

// The wall-clock fields of an instant in a time zone.
function wallClock(ms, timeZone) {
  const parts = {};
  for (const part of format(timeZone, {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    second: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(ms))) {
    parts[part.type] = part.value;
  }
  return parts;
}

// An instant as the value of <input type="datetime-local"> in `timeZone`: "2026-03-02T10:05".
export function toLocalInput(rfc3339, timeZone = DEFAULT_TIME_ZONE) {
  const p = wallClock(new Date(rfc3339).getTime(), timeZone);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

// A datetime-local value read as wall-clock time in `timeZone` → RFC 3339 in UTC.
export function fromLocalInput(value, timeZone = DEFAULT_TIME_ZONE) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value || '');
  if (!match) return null;
  const [, y, mo, d, hh, mm, ss] = match.map(Number);
  const asUtc = Date.UTC(y, mo - 1, d, hh, mm, ss || 0);
  // The zone's offset at that moment (a second pass settles a change of offset in between).
  let instant = asUtc;
  for (let i = 0; i < 2; i += 1) {
    const p = wallClock(instant, timeZone);
    const shown = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
    instant = asUtc - (shown - instant);
  }
  return new Date(instant).toISOString().replace('.000Z', 'Z');
}

// "Beijing time" for the usual zone, else the zone's own name.
export function zoneName(timeZone = DEFAULT_TIME_ZONE) {
  return timeZone === 'Asia/Shanghai' ? '北京时间' : `${timeZone} 时间`;
}
