#!/usr/bin/env python3
"""Minimal XMPP client (Python stdlib only) to probe an XMPP server for TR-069 Annex K tests.

Commands (all take --host/--port/--domain, --cafile to verify TLS against the lab cert, --trace to
print every byte sent (C:) and received (S:) on stderr):

  scenario                     end-to-end check of the server (scripts/xmpp-lab): STARTTLS, SCRAM-SHA-1,
                               PLAIN, XEP-0077, bind, connection request acs -> cpe, error cases, ping
  cpe JID PASSWORD             log in as a CPE (--register creates the account first), answer every
                               Annex K connectionRequest with a result and print it as a JSON line;
                               stop after --count requests or --timeout seconds
  connreq JID PASSWORD TO      send one connectionRequest (--cr-username/--cr-password) to TO, print
                               the reply as JSON; exit 0 on a result, 1 otherwise

JID may carry a resource (user@domain/res); the default resource is "probe".
Example: scripts/xmpp-probe.py --port 15222 scenario
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import select
import socket
import ssl
import sys
import time
import xml.parsers.expat
from xml.sax.saxutils import escape


def quoteattr(value):
    """A single-quoted XML attribute value (the style prosody uses)."""
    return "'%s'" % escape(value, {"'": "&apos;", '"': "&quot;"})

NS_STREAM = "http://etherx.jabber.org/streams"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_REGISTER = "jabber:iq:register"
NS_PING = "urn:xmpp:ping"
NS_CONNREQ = "urn:broadband-forum-org:cwmp:xmppConnReq-1-0"


class XMPPError(Exception):
    pass


class Element:
    """A parsed element: qualified name as on the wire, attributes in wire order, resolved namespace."""

    def __init__(self, name, attrs, ns):
        self.name, self.attrs, self.ns = name, attrs, ns
        self.children, self.text = [], ""

    @property
    def local(self):
        return self.name.split(":")[-1]

    def get(self, key, default=None):
        return self.attrs.get(key, default)

    def find(self, local, ns=None):
        for c in self.children:
            if c.local == local and (ns is None or c.ns == ns):
                return c
        return None

    def findtext(self, local, ns=None):
        c = self.find(local, ns)
        return c.text if c is not None else None

    def xml(self):
        """Re-serialised (single-quoted attributes, as prosody writes them)."""
        a = "".join(" %s=%s" % (k, quoteattr(v)) for k, v in self.attrs.items())
        inner = escape(self.text) + "".join(c.xml() for c in self.children)
        return "<%s%s/>" % (self.name, a) if not inner else "<%s%s>%s</%s>" % (self.name, a, inner, self.name)

    def error(self):
        """(type, condition, text) of a stanza or SASL error, or None."""
        if self.local == "failure":  # SASL
            cond = next((c.local for c in self.children if c.local != "text"), None)
            return ("sasl", cond, self.findtext("text"))
        e = self.find("error")
        if e is None:
            return None
        cond = next((c.local for c in e.children if c.ns == NS_STANZAS and c.local != "text"), None)
        return (e.get("type"), cond, e.findtext("text", NS_STANZAS))


class Parser:
    """Incremental parser for one XML stream (a new one after each stream restart)."""

    def __init__(self):
        self.p = xml.parsers.expat.ParserCreate()  # no namespace processing: names stay as on the wire
        self.p.StartElementHandler, self.p.EndElementHandler = self._start, self._end
        self.p.CharacterDataHandler = self._chars
        self.stack, self.nsstack = [], [{"xml": "http://www.w3.org/XML/1998/namespace"}]
        self.header, self.events, self.closed = None, [], False

    def feed(self, data):
        self.p.Parse(data, False)

    def _start(self, name, attrs):
        scope = dict(self.nsstack[-1])
        for k, v in attrs.items():
            if k == "xmlns":
                scope[""] = v
            elif k.startswith("xmlns:"):
                scope[k[6:]] = v
        self.nsstack.append(scope)
        prefix = name.split(":")[0] if ":" in name else ""
        el = Element(name, dict(attrs), scope.get(prefix))
        if not self.stack and self.header is None:
            self.header = el
            self.events.append(el)
        if self.stack and len(self.stack) > 1:
            self.stack[-1].children.append(el)
        self.stack.append(el)

    def _end(self, name):
        el = self.stack.pop()
        self.nsstack.pop()
        if not self.stack:
            self.closed = True
        elif len(self.stack) == 1:
            self.events.append(el)

    def _chars(self, data):
        if len(self.stack) > 1:
            self.stack[-1].text += data


class Client:
    def __init__(self, host, port, domain, cafile=None, trace=False, name="C", timeout=10.0):
        self.host, self.port, self.domain = host, port, domain
        self.cafile, self.trace, self.name, self.timeout = cafile, trace, name, timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.parser = None
        self.features = None
        self.jid = None
        self.log = []  # (direction, bytes) for the notes
        self._id = 0

    # -- transport --------------------------------------------------------------------
    def _trace(self, direction, data):
        self.log.append((direction, data))
        if self.trace:
            sys.stderr.write("%s %s: %s\n" % (self.name, direction, data.decode("utf-8", "replace")))

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self._trace("C", data)
        self.sock.sendall(data)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        if not (isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()):
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                raise socket.timeout()
        data = self.sock.recv(65536)
        if not data:
            raise XMPPError("connection closed by server")
        self._trace("S", data)
        self.parser.feed(data)

    def next_event(self, timeout=None):
        """Next stream header or top-level stanza; raises socket.timeout."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while not self.parser.events:
            if self.parser.closed:
                raise XMPPError("stream closed by server")
            self._fill(deadline)
        return self.parser.events.pop(0)

    def recv(self, timeout=None):
        """Next top-level stanza/element (skips the stream header)."""
        while True:
            ev = self.next_event(timeout)
            if ev is not self.parser.header:
                if ev.local == "error" and ev.ns == NS_STREAM:
                    raise XMPPError("stream error: " + ev.xml())
                return ev

    def wait_for(self, pred, timeout=None):
        """First stanza matching pred; others are kept for later recv()."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        skipped = []
        try:
            while True:
                st = self.recv(max(0.0, deadline - time.monotonic()))
                if pred(st):
                    return st
                skipped.append(st)
        finally:
            self.parser.events[0:0] = skipped

    def next_id(self, prefix="p"):
        self._id += 1
        return "%s%d" % (prefix, self._id)

    # -- stream -----------------------------------------------------------------------
    def open_stream(self):
        self.parser = Parser()
        self.send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams' to=%s version='1.0' xml:lang='en'>"
                  % quoteattr(self.domain))
        self.header = self.next_event()
        self.features = self.recv()
        if self.features.local != "features" or self.features.ns != NS_STREAM:
            raise XMPPError("expected stream features, got " + self.features.xml())
        return self.features

    def mechanisms(self):
        m = self.features.find("mechanisms", NS_SASL)
        return [c.text for c in m.children] if m is not None else []

    def starttls(self):
        if self.features.find("starttls", NS_TLS) is None:
            raise XMPPError("server does not offer STARTTLS")
        self.send("<starttls xmlns='%s'/>" % NS_TLS)
        r = self.recv()
        if r.local != "proceed":
            raise XMPPError("STARTTLS refused: " + r.xml())
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if self.cafile:
            ctx.load_verify_locations(self.cafile)
        else:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(self.sock, server_hostname=self.domain)
        self._trace("-", ("TLS established: %s %s" % (self.sock.version(), self.sock.cipher()[0])).encode())
        return self.open_stream()

    def close(self):
        try:
            self.send("</stream:stream>")
            self.sock.settimeout(2)
            try:
                while self.parser and not self.parser.closed:
                    self.recv(2)
            except (socket.timeout, XMPPError, OSError):
                pass
        finally:
            self.sock.close()

    # -- SASL -------------------------------------------------------------------------
    def auth_plain(self, user, password):
        blob = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
        self.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (NS_SASL, blob))
        return self._sasl_outcome()

    def auth_scram_sha1(self, user, password, gs2="n,,"):
        """RFC 5802 client. gs2 "n,,": no channel binding ("y,," fails when the server offers -PLUS)."""
        cnonce = base64.b64encode(os.urandom(18)).decode()
        saslname = user.replace("=", "=3D").replace(",", "=2C")
        first_bare = "n=%s,r=%s" % (saslname, cnonce)
        self.send("<auth xmlns='%s' mechanism='SCRAM-SHA-1'>%s</auth>"
                  % (NS_SASL, base64.b64encode((gs2 + first_bare).encode()).decode()))
        ch = self.recv()
        if ch.local != "challenge":
            return ch
        server_first = base64.b64decode(ch.text).decode()
        f = dict(kv.split("=", 1) for kv in server_first.split(","))
        if not f["r"].startswith(cnonce):
            raise XMPPError("server nonce does not extend the client nonce")
        salt, iters = base64.b64decode(f["s"]), int(f["i"])
        salted = hashlib.pbkdf2_hmac("sha1", password.encode(), salt, iters)  # Hi(); no SASLprep (ASCII)
        client_key = hmac.new(salted, b"Client Key", hashlib.sha1).digest()
        stored_key = hashlib.sha1(client_key).digest()
        final_wo_proof = "c=%s,r=%s" % (base64.b64encode(gs2.encode()).decode(), f["r"])
        auth_msg = ",".join([first_bare, server_first, final_wo_proof]).encode()
        sig = hmac.new(stored_key, auth_msg, hashlib.sha1).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, sig))
        final = "%s,p=%s" % (final_wo_proof, base64.b64encode(proof).decode())
        self.send("<response xmlns='%s'>%s</response>" % (NS_SASL, base64.b64encode(final.encode()).decode()))
        out = self.recv()
        if out.local == "success":
            server_key = hmac.new(salted, b"Server Key", hashlib.sha1).digest()
            expect = base64.b64encode(hmac.new(server_key, auth_msg, hashlib.sha1).digest()).decode()
            got = base64.b64decode(out.text or "").decode()
            if got != "v=" + expect:
                raise XMPPError("bad server signature: %r" % got)
        self.scram_trace = (first_bare, server_first, final)
        return out

    def _sasl_outcome(self):
        out = self.recv()
        while out.local == "challenge":  # not expected for PLAIN
            self.send("<response xmlns='%s'/>" % NS_SASL)
            out = self.recv()
        return out

    # -- session ----------------------------------------------------------------------
    def iq(self, type_, payload, to=None, id_=None, timeout=None):
        id_ = id_ or self.next_id()
        self.send("<iq type='%s' id='%s'%s>%s</iq>" % (type_, id_, " to=%s" % quoteattr(to) if to else "", payload))
        return self.wait_for(lambda s: s.local == "iq" and s.get("id") == id_, timeout)

    def bind(self, resource):
        r = self.iq("set", "<bind xmlns='%s'><resource>%s</resource></bind>" % (NS_BIND, escape(resource)))
        if r.get("type") != "result":
            raise XMPPError("bind failed: " + r.xml())
        self.jid = r.find("bind", NS_BIND).findtext("jid")
        return r

    def session(self):
        s = self.features.find("session", NS_SESSION)
        if s is None or s.find("optional") is not None:
            return None
        return self.iq("set", "<session xmlns='%s'/>" % NS_SESSION)

    def login(self, user, password, resource="probe", mechanism="SCRAM-SHA-1", presence=True):
        self.open_stream()
        self.starttls()
        out = self.auth_scram_sha1(user, password) if mechanism == "SCRAM-SHA-1" else self.auth_plain(user, password)
        if out.local != "success":
            raise XMPPError("authentication failed: " + out.xml())
        self.open_stream()
        self.bind(resource)
        self.session()
        if presence:
            self.send("<presence/>")
        return self

    def register(self, user, password):
        """XEP-0077 registration on an unauthenticated (TLS) stream; returns (form reply, set reply)."""
        form = self.iq("get", "<query xmlns='%s'/>" % NS_REGISTER)
        res = self.iq("set", "<query xmlns='%s'><username>%s</username><password>%s</password></query>"
                      % (NS_REGISTER, escape(user), escape(password)))
        return form, res


def connreq_xml(username, password):
    return ("<connectionRequest xmlns='%s'><username>%s</username><password>%s</password></connectionRequest>"
            % (NS_CONNREQ, escape(username), escape(password)))


def split_jid(jid, default_resource="probe"):
    bare, _, res = jid.partition("/")
    user, _, domain = bare.rpartition("@")
    return user, domain, res or default_resource


# -- scenario -----------------------------------------------------------------------------
class Scenario:
    def __init__(self, a):
        self.a, self.failures, self.clients = a, 0, []

    def client(self, name):
        c = Client(self.a.host, self.a.port, self.a.domain, self.a.cafile, self.a.trace, name)
        self.clients.append(c)
        return c

    def check(self, ok, what, detail=""):
        print("%s  %s%s" % ("PASS" if ok else "FAIL", what, ("  " + detail) if detail else ""))
        if not ok:
            self.failures += 1

    def run(self):
        a, d = self.a, self.a.domain
        suffix = "%d" % (time.time() * 1000 % 1000000)
        cpe_user = a.cpe_user or "cpe-1"

        # 1. plain stream, features, STARTTLS, registration form + register cpe-1
        c = self.client("R")
        t0 = time.monotonic()
        f = c.open_stream()
        h = c.header
        self.check(h.get("version") == "1.0" and h.get("id") and h.get("from") == d,
                   "stream header", h.xml().replace("/>", ">"))
        st = f.find("starttls", NS_TLS)
        self.check(st is not None and st.find("required") is not None, "STARTTLS offered and required", f.xml())
        self.check(not c.mechanisms(), "no SASL mechanisms before TLS", repr(c.mechanisms()))
        f = c.starttls()
        self.check("SCRAM-SHA-1" in c.mechanisms() and "PLAIN" in c.mechanisms(),
                   "SCRAM-SHA-1 and PLAIN after TLS", f.xml())
        self.check(f.find("register", "http://jabber.org/features/iq-register") is not None,
                   "XEP-0077 feature advertised after TLS")
        form, res = c.register(cpe_user, a.cpe_password)
        if res.get("type") == "error" and res.error()[1] == "conflict":
            print("      (%s already registered: %s)" % (cpe_user, res.xml()))
        else:
            self.check(res.get("type") == "result", "register %s@%s" % (cpe_user, d), res.xml())
        print("      registration form: " + form.xml())
        res2 = c.iq("set", "<query xmlns='%s'><username>%s</username><password>x</password></query>"
                    % (NS_REGISTER, cpe_user))
        self.check(res2.error() == ("cancel", "conflict", "The requested username already exists."),
                   "re-register -> conflict", res2.xml())
        c.close()
        print("      registration round trip %.0f ms" % ((time.monotonic() - t0) * 1000))

        # 2. SASL failures
        c = self.client("F")
        c.open_stream(); c.starttls()
        out = c.auth_scram_sha1("acs", "wrong-password")
        self.check(out.local == "failure", "SCRAM wrong password -> failure", out.xml())
        c.close()
        c = self.client("F")
        c.open_stream(); c.starttls()
        out = c.auth_plain("acs", "wrong-password")
        self.check(out.local == "failure", "PLAIN wrong password -> failure", out.xml())
        c.close()
        c = self.client("F")
        c.open_stream(); c.starttls()
        out = c.auth_scram_sha1("nobody-" + suffix, "x")
        self.check(out.local == "failure", "SCRAM unknown user -> failure", out.xml())
        c.close()
        c = self.client("F")
        c.open_stream()
        c.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (NS_SASL, base64.b64encode(b"\0acs\0x").decode()))
        try:
            out = c.recv()
            self.check(out.local == "failure", "auth before STARTTLS refused", out.xml())
        except XMPPError as e:
            self.check(True, "auth before STARTTLS refused", str(e))
        c.close()

        # 3. ACS logs in with SCRAM-SHA-1, CPE with PLAIN
        acs = self.client("A")
        acs.open_stream(); acs.starttls()
        out = acs.auth_scram_sha1("acs", a.acs_password)
        self.check(out.local == "success", "SCRAM-SHA-1 login acs", out.xml())
        print("      SCRAM client-first-bare: %s\n      server-first: %s\n      client-final: %s" % acs.scram_trace)
        f = acs.open_stream()
        print("      features after auth: " + f.xml())
        b = acs.bind("acs")
        self.check(acs.jid == "acs@%s/acs" % d, "bind", b.xml())
        s = acs.session()
        print("      session: " + (s.xml() if s is not None else "not required (optional or not offered)"))
        acs.send("<presence/>")

        cpe = self.client("B")
        cpe.open_stream(); cpe.starttls()
        out = cpe.auth_plain(cpe_user, a.cpe_password)
        self.check(out.local == "success", "PLAIN login " + cpe_user, out.xml())
        cpe.open_stream(); cpe.bind("cwmp"); cpe.session()
        cpe.send("<presence/>")
        cpe_full = "%s@%s/cwmp" % (cpe_user, d)
        time.sleep(0.2)

        # 4. the connection request
        acs.send("<iq type='get' to='%s' id='x1'>%s</iq>" % (cpe_full, connreq_xml("u", "p")))
        got = cpe.wait_for(lambda s: s.local == "iq" and s.find("connectionRequest", NS_CONNREQ) is not None)
        cr = got.find("connectionRequest", NS_CONNREQ)
        self.check(got.get("from") == acs.jid and cr.findtext("username") == "u" and cr.findtext("password") == "p",
                   "CPE receives connectionRequest", got.xml())
        cpe.send("<iq type='result' to=%s id=%s/>" % (quoteattr(got.get("from")), quoteattr(got.get("id"))))
        r = acs.wait_for(lambda s: s.local == "iq" and s.get("id") == "x1")
        self.check(r.get("type") == "result" and r.get("from") == cpe_full, "ACS receives result", r.xml())

        # 5. error cases (prosody answers get/set IQs it cannot deliver with an error "from" the target)
        def expect_error(to, expected, what):
            r = acs.iq("get", connreq_xml("u", "p"), to=to)
            self.check(r.get("type") == "error" and r.get("from") == to and r.error()[:2] == expected, what, r.xml())

        expect_error("%s@%s/gone" % (cpe_user, d), ("cancel", "service-unavailable"), "to an offline full JID")
        expect_error("%s@%s" % (cpe_user, d), ("cancel", "service-unavailable"),
                     "to the bare JID while a resource is online (answered by the server)")
        try:
            got = cpe.wait_for(lambda s: s.local == "iq" and s.find("connectionRequest", NS_CONNREQ) is not None, 0.5)
        except socket.timeout:
            got = None
        self.check(got is None, "bare-JID IQ not delivered to the resource")
        expect_error("nobody-%s@%s/x" % (suffix, d), ("cancel", "service-unavailable"), "to a nonexistent user (full)")
        expect_error("nobody-%s@%s" % (suffix, d), ("cancel", "service-unavailable"), "to a nonexistent user (bare)")
        expect_error("someone@elsewhere.invalid/x", ("cancel", "not-allowed"), "to a remote domain (no s2s)")

        # 6. CPE answers with an error (e.g. an unauthorised ACS)
        acs.send("<iq type='get' to='%s' id='x2'>%s</iq>" % (cpe_full, connreq_xml("u", "wrong")))
        got = cpe.wait_for(lambda s: s.local == "iq" and s.get("id") == "x2")
        cpe.send("<iq type='error' to=%s id='x2'>%s<error type='cancel'><not-authorized xmlns='%s'/></error></iq>"
                 % (quoteattr(got.get("from")), connreq_xml("u", "wrong"), NS_STANZAS))
        r = acs.wait_for(lambda s: s.local == "iq" and s.get("id") == "x2")
        self.check(r.error() is not None and r.error()[1] == "not-authorized", "CPE error reaches ACS", r.xml())

        # 7. keep-alives
        acs.send(" ")
        r = acs.iq("get", "<ping xmlns='%s'/>" % NS_PING, to=d)
        self.check(r.get("type") == "result", "whitespace keep-alive then XEP-0199 ping to server", r.xml())
        r = acs.iq("get", "<ping xmlns='%s'/>" % NS_PING)
        self.check(r.get("type") == "result", "ping without 'to' (own account)", r.xml())

        # 8. a CPE that bound a resource but sent no initial presence still gets IQs to its full JID
        quiet = self.client("Q")
        quiet.login(cpe_user, a.cpe_password, "quiet", "PLAIN", presence=False)
        acs.send("<iq type='get' to='%s' id='x3'>%s</iq>" % (quiet.jid, connreq_xml("u", "p")))
        got = quiet.wait_for(lambda s: s.local == "iq" and s.get("id") == "x3")
        quiet.send("<iq type='result' to=%s id='x3'/>" % quoteattr(got.get("from")))
        r = acs.wait_for(lambda s: s.local == "iq" and s.get("id") == "x3")
        self.check(r.get("type") == "result", "IQ to a resource without initial presence", r.xml())
        quiet.close()

        # 9. CPE goes away; same full JID now offline
        cpe.close()
        time.sleep(0.3)
        expect_error(cpe_full, ("cancel", "service-unavailable"), "to the full JID after the CPE disconnected")
        acs.close()
        return self.failures


def cmd_scenario(a):
    s = Scenario(a)
    try:
        fails = s.run()
    except (XMPPError, socket.timeout, OSError) as e:
        print("FAIL  aborted: %r" % e)
        fails = s.failures + 1
    if a.dump:
        with open(a.dump, "w") as fh:
            for c in s.clients:
                for d, data in c.log:
                    fh.write("%s %s: %s\n" % (c.name, d, data.decode("utf-8", "replace")))
    print("%s (%d failures)" % ("OK" if not fails else "FAILED", fails))
    return 1 if fails else 0


def cmd_cpe(a):
    user, domain, res = split_jid(a.jid)
    c = Client(a.host, a.port, domain or a.domain, a.cafile, a.trace, "CPE")
    if a.register:
        c.open_stream(); c.starttls()
        _, r = c.register(user, a.password)
        if r.get("type") != "result" and (r.error() or (None, None))[1] != "conflict":
            print("registration failed: " + r.xml(), file=sys.stderr)
            return 1
        c.close()
        c = Client(a.host, a.port, domain or a.domain, a.cafile, a.trace, "CPE")
    c.login(user, a.password, res, a.mechanism)
    print(json.dumps({"ready": c.jid}), flush=True)
    n, deadline = 0, time.monotonic() + a.timeout
    while n < a.count:
        try:
            st = c.recv(max(0.0, deadline - time.monotonic()))
        except socket.timeout:
            break
        if st.local != "iq" or st.get("type") not in ("get", "set"):
            continue
        cr = st.find("connectionRequest", NS_CONNREQ)
        if cr is None:
            c.send("<iq type='error' to=%s id=%s><error type='cancel'><service-unavailable xmlns='%s'/></error></iq>"
                   % (quoteattr(st.get("from", "")), quoteattr(st.get("id", "")), NS_STANZAS))
            continue
        c.send("<iq type='result' to=%s id=%s/>" % (quoteattr(st.get("from", "")), quoteattr(st.get("id", ""))))
        n += 1
        print(json.dumps({"from": st.get("from"), "id": st.get("id"), "type": st.get("type"),
                          "username": cr.findtext("username"), "password": cr.findtext("password")}), flush=True)
    c.close()
    return 0 if n >= a.count else 1


def cmd_connreq(a):
    user, domain, res = split_jid(a.jid)
    c = Client(a.host, a.port, domain or a.domain, a.cafile, a.trace, "ACS")
    c.login(user, a.password, res, a.mechanism)
    r = c.iq("get", connreq_xml(a.cr_username, a.cr_password), to=a.to, timeout=a.timeout)
    err = r.error()
    print(json.dumps({"type": r.get("type"), "from": r.get("from"), "error": list(err) if err else None,
                      "stanza": r.xml()}), flush=True)
    c.close()
    return 0 if r.get("type") == "result" else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5222)
    p.add_argument("--domain", default="corral.test")
    p.add_argument("--cafile", help="verify the server certificate against this file (default: no verification)")
    p.add_argument("--mechanism", choices=["SCRAM-SHA-1", "PLAIN"], default="SCRAM-SHA-1")
    p.add_argument("--trace", action="store_true", help="print raw traffic on stderr")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("scenario")
    s.add_argument("--acs-password", default=os.environ.get("XMPP_LAB_ACS_PASSWORD", "acs-secret"))
    s.add_argument("--cpe-user", default="cpe-1")
    s.add_argument("--cpe-password", default="cpe-secret")
    s.add_argument("--dump", help="write the raw traffic of all connections to this file")
    s = sub.add_parser("cpe")
    s.add_argument("jid"); s.add_argument("password")
    s.add_argument("--register", action="store_true")
    s.add_argument("--count", type=int, default=1)
    s.add_argument("--timeout", type=float, default=30.0)
    s = sub.add_parser("connreq")
    s.add_argument("jid"); s.add_argument("password"); s.add_argument("to")
    s.add_argument("--cr-username", default="u")
    s.add_argument("--cr-password", default="p")
    s.add_argument("--timeout", type=float, default=10.0)
    a = p.parse_args()
    return {"scenario": cmd_scenario, "cpe": cmd_cpe, "connreq": cmd_connreq}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
