// One client connection, served request after request by our own loop over httplib's request
// processing. httplib 0.11 gives every request a fresh stream with its own read buffer, so the
// bytes of a second request sent in the same write as the first (HTTP/1.1 pipelining) were read
// into the first request's buffer and thrown away with it: the second request was neither
// answered nor executed. Here one buffer lives as long as the connection, so pipelined requests
// are answered in order.
//
// The loop also checks each request head before httplib parses it, because httplib skips a header
// line without a colon and has no limit on the whole head: a malformed header line is 400, a head
// over HeadLimits is 431, both as problem documents, and the connection is closed after them (the
// rest of what the client sent can no longer be framed).
//
// Thread safety: a connection is served by one thread; nothing is shared but `listener`, read
// atomically.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstddef>
#include <ctime>
#include <functional>
#include <string>

namespace tongban::api {

struct HeadLimits {
  size_t max_line_bytes = 8192;   // one header line, its CRLF included
  size_t max_head_bytes = 16384;  // the request line and every header line
  size_t max_fields = 100;        // header lines
};

struct ConnectionOptions {
  size_t keep_alive_max_count = 100;
  time_t keep_alive_timeout_sec = 5;
  time_t read_timeout_sec = 5;
  time_t write_timeout_sec = 5;
  HeadLimits limits;
  // Called with 400 or 431 when a request head is refused here, before httplib (and so before any
  // route) sees it: the server counts it in its metrics. May be empty.
  std::function<void(int status)> head_refused;
};

// What the head checks found.
enum class HeadCheck {
  kOk,
  kMalformed,  // 400: a header line without a colon, a name that is not a token, a control byte
  kTooLarge,   // 431
};

// Checks the head `head` (request line and header lines, each ending in CRLF, without the blank
// line that ends it). `detail` says what is wrong.
HeadCheck CheckRequestHead(const std::string& head, const HeadLimits& limits, std::string* detail);

// Processes one request read from the stream: httplib's Server::process_request. Returns false
// when the connection is to be dropped; sets `connection_closed` when the response closed it.
using ProcessRequest =
    std::function<bool(httplib::Stream& stream, bool close_connection, bool& connection_closed)>;

// Serves requests on `sock` until the client closes it, it idles past the keep-alive timeout, the
// listener is closed (`listener` becomes INVALID_SOCKET: the server is stopping), or a response
// closes it. Does not close `sock`.
void ServeConnection(socket_t sock, const std::atomic<socket_t>& listener,
                     const ConnectionOptions& options, const ProcessRequest& process);

}  // namespace tongban::api
