"""uvicorn's HTTP protocol with the one JSON error shape for requests it cannot parse.

A request whose first line is not valid HTTP/1.1 never reaches the application: uvicorn answers
it with a plain-text ``Invalid HTTP request received.``. The commonest case here is a URL with
Chinese typed as is (``curl 'http://host/api/search?q=缤纷渔人'``: browsers percent-encode, curl
sends the raw UTF-8 bytes, which HTTP does not allow in a request line). That answer now has the
JSON error shape, the security headers and a message that says how to send the query.
"""

from __future__ import annotations

import json

from api.errors import error_body
from api.middleware import SECURITY_HEADERS

MESSAGE = ("the request could not be read as HTTP/1.1. A URL may not carry raw non-ASCII characters: "
           "percent-encode them as UTF-8 (%E7%BC%A4 …), as browsers do; with curl use "
           "-G --data-urlencode 'q=缤纷渔人'")


def invalid_request_bytes(date: bytes, detail: str = "Invalid HTTP request received.") -> bytes:
    """The whole 400 response (closing the connection) for bytes that are not an HTTP/1.1 request:
    ``date`` is the server's ``date``/``server`` header block. Shared by the server's protocol and
    the direct SPARQL workers' (ADR 0026)."""
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE

    body = json.dumps(error_body("bad_request", MESSAGE, {"server": detail}), ensure_ascii=False).encode()
    content = [STATUS_LINE[400], date]
    for name, value in SECURITY_HEADERS.items():
        content.extend([name.lower().encode("latin-1"), b": ", value.encode("latin-1"), b"\r\n"])
    content.extend([b"content-type: application/json\r\n",
                    b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                    b"connection: close\r\n", b"\r\n", body])
    return b"".join(content)


def http_protocol():
    """The protocol class for ``uvicorn.run(http=...)``: httptools (uvicorn[standard]) with JSON
    errors, or uvicorn's own choice where httptools is not installed."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - uvicorn[standard] brings httptools
        return "auto"

    class JsonErrorsHttpToolsProtocol(HttpToolsProtocol):
        direct_checked = False
        initial = b""  # bytes another process read from this connection before handing it here (ADR 0026)

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            if self.initial:  # before the transport reads anything more: they come first
                data, self.initial = self.initial, b""
                self.data_received(data)

        def data_received(self, data: bytes) -> None:
            """A connection that opens with a /sparql request goes to a direct SPARQL worker when
            one is idle (api.sparql_direct, ADR 0026); everything else is served here."""
            if not self.direct_checked:
                self.direct_checked = True
                from api import sparql_direct

                pool = sparql_direct.POOL
                if pool is not None and sparql_direct.is_sparql_request(data) and pool.hand_off(self, data):
                    return
            super().data_received(data)

        def send_400_response(self, msg: str) -> None:
            date = b"".join(name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers)
            self.transport.write(invalid_request_bytes(date, msg))
            self.transport.close()

    return JsonErrorsHttpToolsProtocol
