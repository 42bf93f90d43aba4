/**
 * C's strftime for $timef/$utimef and ctime for $Tf: local time (the process's TZ) or UTC,
 * with the conversions a script uses. An unknown conversion is copied as written.
 */

export interface TimeParts {
  sec: number;
  min: number;
  hour: number;
  mday: number;
  /** 0..11 */
  mon: number;
  year: number;
  /** 0 Sunday..6 */
  wday: number;
  /** 0..365 */
  yday: number;
  isdst: number;
  /** Offset east of UTC in minutes. */
  offset: number;
  epoch: number;
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

export function timeParts(epochSec: number, utc: boolean): TimeParts {
  const d = new Date(epochSec * 1000);
  const get = utc
    ? { y: d.getUTCFullYear(), mo: d.getUTCMonth(), md: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds(), wd: d.getUTCDay() }
    : { y: d.getFullYear(), mo: d.getMonth(), md: d.getDate(), h: d.getHours(), mi: d.getMinutes(), s: d.getSeconds(), wd: d.getDay() };
  const offset = utc ? 0 : -d.getTimezoneOffset();
  const jan = new Date(get.y, 0, 1);
  const jul = new Date(get.y, 6, 1);
  const isdst = utc ? 0 : Number(d.getTimezoneOffset() < Math.max(jan.getTimezoneOffset(), jul.getTimezoneOffset()));
  const yday = Math.floor((Date.UTC(get.y, get.mo, get.md) - Date.UTC(get.y, 0, 1)) / 86_400_000);
  return { sec: get.s, min: get.mi, hour: get.h, mday: get.md, mon: get.mo, year: get.y, wday: get.wd, yday, isdst, offset, epoch: epochSec };
}

const p2 = (n: number): string => String(n).padStart(2, '0');

export function strftime(fmt: string, t: TimeParts): string {
  return fmt.replace(/%([a-zA-Z%])/g, (all, c: string) => {
    switch (c) {
      case 'Y': return String(t.year);
      case 'y': return p2(t.year % 100);
      case 'C': return p2(Math.floor(t.year / 100));
      case 'm': return p2(t.mon + 1);
      case 'd': return p2(t.mday);
      case 'e': return String(t.mday).padStart(2, ' ');
      case 'H': return p2(t.hour);
      case 'I': return p2(t.hour % 12 === 0 ? 12 : t.hour % 12);
      case 'M': return p2(t.min);
      case 'S': return p2(t.sec);
      case 'p': return t.hour < 12 ? 'AM' : 'PM';
      case 'j': return String(t.yday + 1).padStart(3, '0');
      case 'a': return DAYS[t.wday]!.slice(0, 3);
      case 'A': return DAYS[t.wday]!;
      case 'b': case 'h': return MONTHS[t.mon]!.slice(0, 3);
      case 'B': return MONTHS[t.mon]!;
      case 'u': return String(t.wday === 0 ? 7 : t.wday);
      case 'w': return String(t.wday);
      case 's': return String(t.epoch);
      case 'n': return '\n';
      case 't': return '\t';
      case 'T': return `${p2(t.hour)}:${p2(t.min)}:${p2(t.sec)}`;
      case 'R': return `${p2(t.hour)}:${p2(t.min)}`;
      case 'D': return `${p2(t.mon + 1)}/${p2(t.mday)}/${p2(t.year % 100)}`;
      case 'F': return `${t.year}-${p2(t.mon + 1)}-${p2(t.mday)}`;
      case 'c': return `${DAYS[t.wday]!.slice(0, 3)} ${MONTHS[t.mon]!.slice(0, 3)} ${String(t.mday).padStart(2, ' ')} ${p2(t.hour)}:${p2(t.min)}:${p2(t.sec)} ${t.year}`;
      case 'z': {
        const o = Math.abs(t.offset);
        return `${t.offset < 0 ? '-' : '+'}${p2(Math.floor(o / 60))}${p2(o % 60)}`;
      }
      case '%': return '%';
      default: return all;
    }
  });
}
