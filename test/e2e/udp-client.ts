/** A tiny SIP-over-UDP client for end-to-end tests: send one request, collect the replies. */
import { createSocket } from 'node:dgram';

export interface Exchange {
  replies: string[];
  /** Status code of the first final (>= 200) reply, or 0 when none came in time. */
  final: number;
}

export async function udpRequest(port: number, text: string, timeoutMs = 2000, localPort = 0): Promise<Exchange> {
  const sock = createSocket('udp4');
  const replies: string[] = [];
  await new Promise<void>((res) => sock.bind(localPort, '127.0.0.1', () => res()));
  return new Promise<Exchange>((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      sock.close();
      const fin = replies.map((r) => Number(/^SIP\/2\.0 (\d{3})/.exec(r)?.[1] ?? 0)).find((c) => c >= 200) ?? 0;
      resolve({ replies, final: fin });
    };
    const timer = setTimeout(finish, timeoutMs);
    sock.on('message', (m) => {
      const s = m.toString('latin1');
      replies.push(s);
      const code = Number(/^SIP\/2\.0 (\d{3})/.exec(s)?.[1] ?? 0);
      if (code >= 200) finish();
    });
    const lp = (sock.address() as { port: number }).port;
    sock.send(Buffer.from(text.replace(/\$LPORT/g, String(lp)), 'latin1'), port, '127.0.0.1');
  });
}

let seq = 0;
/** An OPTIONS/INVITE-like request; `$LPORT` is filled with the client's port. */
export function request(method: string, ruri: string, extra = '', maxForwards = 70): string {
  seq++;
  return (
    `${method} ${ruri} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 127.0.0.1:$LPORT;branch=z9hG4bKtest${seq}x${Date.now()}\r\n` +
    `Max-Forwards: ${maxForwards}\r\n` +
    `From: <sip:alice@kemi.test>;tag=t${seq}\r\n` +
    `To: <sip:bob@kemi.test>\r\n` +
    `Call-ID: c${seq}-${Date.now()}@test\r\n` +
    `CSeq: 1 ${method}\r\n` +
    extra +
    `Content-Length: 0\r\n\r\n`
  );
}
