/**
 * Reading SIPp's -trace_msg logs for differential tests: the messages an endpoint received, and
 * a normal form that masks what differs between runs (ports by role, branches, tags, Call-ID,
 * the Server/User-Agent value, the SDP media port).
 */
/** Messages an endpoint received, from SIPp's -trace_msg log. */
export function receivedMessages(logText: string): string[] {
  const out: string[] = [];
  for (const block of logText.split(/^-{20,} .*$/m)) {
    const m = /^\s*(?:UDP|TCP) message received \[\d+\] bytes :\r?\n\r?\n([\s\S]*)$/.exec(block);
    if (m) out.push(m[1]!.replace(/\s+$/, ''));
  }
  return out;
}

/** Masks what differs by run; `ports` maps each port number to a role name. */
export function normalize(msg: string, ports: Map<number, string>): string {
  const [head, ...bodyParts] = msg.split(/\r?\n\r?\n/);
  const body = bodyParts.join('\n\n').replace(/m=audio \d+/g, 'm=audio P');
  const lines = head!.split(/\r?\n/).map((line) => {
    let l = line
      .replace(/branch=[^;,\s>]+/g, 'branch=B')
      .replace(/\b(nonce|cnonce|response)="[^"]*"/g, '$1="X"')
      .replace(/\b(f?tag)=[^;>,\s]+/g, '$1=T')
      .replace(/^(Call-ID|i)\s*:.*$/i, 'Call-ID: C')
      .replace(/^(Content-Length|l)\s*:\s*/i, 'Content-Length: ')
      // Local replies name their server: "kamailio (5.6.3 ...)" vs "kemi-proxy".
      .replace(/^(Server|User-Agent)\s*:.*$/i, '$1: S');
    l = l.replace(/([:=])(\d{4,5})\b/g, (all, sep: string, p: string) => (ports.has(Number(p)) ? `${sep}${ports.get(Number(p))}` : all));
    return l;
  });
  return lines.join('\n') + (body ? `\n\n${body}` : '');
}

