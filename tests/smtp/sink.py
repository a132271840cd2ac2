#!/usr/bin/python3
"""
sink.py: a real SMTP server for invito's tests (Debian's python3-aiosmtpd).

Listens on 127.0.0.1 on a free port, writes that port to --port-file once it
accepts connections, and for every message accepted writes DIR/NNNNN.eml (the
raw message) and appends one JSON line to DIR/index.jsonl, *before* answering
250, so that whatever the client saw accepted is on disk:
  {"n", "conn", "tls", "auth", "mail_from", "rcpt", "message_id", "subject",
   "from", "to", "date", "bcc", "text", "html", "raw_subject"}
(subject, text and html decoded by Python's email package: what a mail client
would show). Options:
  --delay S        wait S seconds before answering each DATA (a slow server)
  --reject SUBSTR  answer 550 to RCPT TO addresses containing SUBSTR
  --tls CERT KEY   offer STARTTLS and require it before MAIL
  --auth USER:PASS require AUTH (PLAIN or LOGIN) with these credentials
  --count-only     keep nothing, parse nothing: a sink for benchmarks
Test code only: it never listens on anything but 127.0.0.1.
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--reject", default=None)
    ap.add_argument("--tls", nargs=2, default=None)
    ap.add_argument("--auth", default=None)
    ap.add_argument("--count-only", action="store_true")
    args = ap.parse_args()

    state = {"n": 0, "conn": 0}
    index = open(os.path.join(args.dir, "index.jsonl"), "a", buffering=1)

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if args.reject and args.reject in address:
                return "550 5.1.1 mailbox unavailable"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            if args.delay > 0:
                await asyncio.sleep(args.delay)
            state["n"] += 1
            n = state["n"]
            if args.count_only:
                return "250 OK queued as %d" % n
            raw = envelope.original_content or envelope.content
            with open(os.path.join(args.dir, "%05d.eml" % n), "wb") as f:
                f.write(raw)
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            text = html = None
            for part in msg.walk():
                ctype = part.get_content_type()
                if ctype == "text/plain" and text is None:
                    text = part.get_content()
                elif ctype == "text/html" and html is None:
                    html = part.get_content()
            raw_subject = None
            for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
                if line.lower().startswith(b"subject:"):
                    raw_subject = line.decode("ascii", "replace")
            rec = {
                "n": n,
                "conn": getattr(session, "invito_conn", 0),
                "tls": session.ssl is not None,
                "auth": getattr(session, "invito_user", None),
                "mail_from": envelope.mail_from,
                "rcpt": list(envelope.rcpt_tos),
                "message_id": str(msg["Message-ID"] or ""),
                "subject": str(msg["Subject"] or ""),
                "raw_subject": raw_subject,
                "from": str(msg["From"] or ""),
                "to": str(msg["To"] or ""),
                "date": str(msg["Date"] or ""),
                "bcc": str(msg["Bcc"] or ""),
                "headers": len(msg.keys()),
                "text": text,
                "html": html,
            }
            index.write(json.dumps(rec) + "\n")
            return "250 OK queued as %d" % n

    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword) or args.auth is None:
            return AuthResult(success=False, handled=False)
        user, pw = args.auth.split(":", 1)
        ok = auth_data.login.decode() == user and auth_data.password.decode() == pw
        if ok:
            session.invito_user = user
        return AuthResult(success=ok, handled=False)

    tls_context = None
    if args.tls:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.tls[0], args.tls[1])

    class CountingSMTP(SMTP):
        def connection_made(self, transport):
            super().connection_made(transport)
            if not getattr(self.session, "invito_conn", 0):
                state["conn"] += 1
                self.session.invito_conn = state["conn"]

    def factory():
        kw = {}
        if tls_context is not None:
            kw.update(tls_context=tls_context, require_starttls=True)
        if args.auth:
            kw.update(authenticator=authenticator, auth_required=True,
                      auth_require_tls=tls_context is not None)
        return CountingSMTP(Handler(), hostname="sink.test", **kw)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(factory, "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, args.port_file)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
