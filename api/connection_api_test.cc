// API tests of the connection itself (http_connection.cc), over raw sockets: pipelined requests
// answered in order, request heads refused by their limits (431) or when malformed (400), and a
// request's body framed so that the next request is found.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api_test_fixture.h"

namespace tongban::api::api_test {
namespace {

struct RawResponse {
  int status = 0;
  std::string head;
  nlohmann::json body;
};

// A client that writes bytes as given and reads responses one by one.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~RawConnection() { ::close(fd_); }
  bool connected() const { return connected_; }

  // Sends `bytes` in one write.
  bool Send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // The next response; status 0 when the connection closed (or timed out) first.
  RawResponse Next() {
    RawResponse r;
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return r;
    }
    r.head = buffer_.substr(0, end + 2);
    size_t length = 0;
    for (const char* name : {"Content-Length: ", "content-length: "}) {
      size_t at = r.head.find(name);
      if (at != std::string::npos) length = std::stoul(r.head.substr(at + 16));
    }
    while (buffer_.size() < end + 4 + length) {
      if (!Fill()) return r;
    }
    r.status = std::stoi(r.head.substr(9, 3));
    r.body = nlohmann::json::parse(buffer_.substr(end + 4, length), nullptr, false);
    buffer_.erase(0, end + 4 + length);
    return r;
  }
  // Whether the server closed the connection (after everything it sent was read).
  bool Closed() { return buffer_.empty() && !Fill(); }

 private:
  bool Fill() {
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

std::string Request(const std::string& method, const std::string& path, const std::string& token,
                    const std::string& body = "", const std::string& extra = "") {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!token.empty()) r += "Authorization: Bearer " + token + "\r\n";
  if (method == "POST" && extra.find("Content-Length") == std::string::npos &&
      extra.find("Transfer-Encoding") == std::string::npos) {
    r +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return r + extra + "\r\n" + body;
}

void ExpectRawProblem(const RawResponse& r, int status, const std::string& slug) {
  EXPECT_EQ(r.status, status) << r.head;
  EXPECT_NE(r.head.find("application/problem+json"), std::string::npos) << r.head;
  ASSERT_TRUE(r.body.is_object()) << r.head;
  EXPECT_EQ(r.body.value("type", ""), "https://tongban.dev/problems/" + slug) << r.body.dump();
  EXPECT_TRUE(DocumentedProblemSlugs().count(slug)) << slug << " is not in api/openapi.json";
  EXPECT_EQ(r.body.value("status", 0), status);
}

// A second server on the address one already listens on fails to bind, instead of sharing its
// connections (SO_REUSEPORT would let both listen: two databases answering one address).
TEST_F(ApiTest, ASecondServerCannotBindTheSamePort) {
  ServerOptions options;
  options.port = server_->port();
  ApiServer second(&server_->service(), LoadPrincipals(true), nullptr, options);
  Result<int> bound = second.Bind();
  ASSERT_FALSE(bound.ok());
  EXPECT_EQ(bound.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(bound.status().message().find("in use"), std::string::npos) << bound.status().message();
  // The first server still answers.
  EXPECT_EQ(api().Get("/healthz").status, 200);
}

TEST_F(ApiTest, PipelinedRequestsAreAnsweredInOrder) {
  const std::string create = NewPermit().dump();
  RawConnection c(server_->port());
  ASSERT_TRUE(c.connected());
  // Two applications and a read, in one write: each is executed and answered, in order.
  ASSERT_TRUE(c.Send(Request("POST", "/v1/cases", kApplicant, create) +
                     Request("POST", "/v1/cases", kApplicant, create) +
                     Request("GET", "/v1/cases", kApplicant)));
  RawResponse first = c.Next();
  RawResponse second = c.Next();
  RawResponse list = c.Next();
  ASSERT_EQ(first.status, 201) << first.head;
  ASSERT_EQ(second.status, 201) << second.head;
  EXPECT_NE(first.body.value("id", ""), second.body.value("id", ""));
  ASSERT_EQ(list.status, 200) << list.head;
  EXPECT_EQ(list.body["cases"].size(), 2u);
  EXPECT_EQ(api().Get("/v1/cases", kAuditor).doc["cases"].size(), 2u);
  // A POST without a length has no body, and the request after it is still found.
  const std::string id = first.body.value("id", "");
  ASSERT_TRUE(c.Send("POST /v1/cases/" + id + "/actions HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                     "Authorization: Bearer " + kClerk + "\r\n\r\n" +
                     Request("GET", "/healthz", "")));
  ExpectRawProblem(c.Next(), 400, "malformed-json");
  // The 400 above read the whole request; the connection goes on.
  EXPECT_EQ(c.Next().status, 200);
  // Connection: close ends it after its answer; what follows is not executed.
  ASSERT_TRUE(c.Send(Request("GET", "/healthz", "", "", "Connection: close\r\n") +
                     Request("POST", "/v1/cases", kApplicant, create)));
  RawResponse closing = c.Next();
  EXPECT_EQ(closing.status, 200);
  EXPECT_NE(closing.head.find("Connection: close"), std::string::npos) << closing.head;
  EXPECT_TRUE(c.Closed());
  EXPECT_EQ(api().Get("/v1/cases", kAuditor).doc["cases"].size(), 2u);
}

TEST_F(ApiTest, MalformedHeaderLinesAre400) {
  for (const std::string& line :
       {std::string("NoColonHere\r\n"), std::string("Bad Name: x\r\n"),
        std::string("Space-Before-Colon : x\r\n"), std::string(": no name\r\n"),
        std::string("X-Folded: a\r\n  folded\r\n"), std::string("X-Control: a\x01z\r\n"),
        std::string("Content-Length: 2\r\nContent-Length: 3\r\n"),
        std::string("Content-Length: -1\r\n"),
        std::string("Content-Length: 2\r\nTransfer-Encoding: chunked\r\n")}) {
    SCOPED_TRACE(line);
    RawConnection c(server_->port());
    ASSERT_TRUE(c.Send(Request("GET", "/v1/definitions", kApplicant, "", line) +
                       Request("GET", "/healthz", "")));
    ExpectRawProblem(c.Next(), 400, "malformed-header");
    EXPECT_TRUE(c.Closed());
  }
  // Nothing was created by a refused head.
  RawConnection c(server_->port());
  ASSERT_TRUE(c.Send(Request("POST", "/v1/cases", kApplicant, NewPermit().dump(), "Oops\r\n")));
  ExpectRawProblem(c.Next(), 400, "malformed-header");
  EXPECT_EQ(api().Get("/v1/cases", kAuditor).doc["cases"].size(), 0u);
}

TEST_F(ApiTest, OversizedHeadersAre431) {
  std::string many;
  for (int i = 0; i < 101; ++i)
    many += "X-Field-" + std::to_string(i) + ": 1\r\n";
  std::string big;
  for (int i = 0; i < 5; ++i)
    big += "X-Big-" + std::to_string(i) + ": " + std::string(4000, 'b') + "\r\n";
  for (const std::string& extra : {"X-Long: " + std::string(8200, 'a') + "\r\n", many, big}) {
    SCOPED_TRACE(extra.substr(0, 20));
    RawConnection c(server_->port());
    ASSERT_TRUE(c.Send(Request("GET", "/v1/definitions", kApplicant, "", extra)));
    ExpectRawProblem(c.Next(), 431, "headers-too-large");
    EXPECT_TRUE(c.Closed());
  }
  // A head that never ends within the limit.
  RawConnection endless(server_->port());
  ASSERT_TRUE(endless.Send("GET /healthz HTTP/1.1\r\nX-Endless: " + std::string(40000, 'e')));
  ExpectRawProblem(endless.Next(), 431, "headers-too-large");
  // Just under every limit is served.
  std::string fine;
  for (int i = 0; i < 90; ++i)
    fine += "X-Field-" + std::to_string(i) + ": " + std::string(100, 'f') + "\r\n";
  RawConnection c(server_->port());
  ASSERT_TRUE(c.Send(Request("GET", "/v1/definitions", kApplicant, "", fine)));
  EXPECT_EQ(c.Next().status, 200);
}

// Requests refused before any route — a bad head, an unknown path — are counted in the metrics
// like every other request, under a route label of their own.
TEST_F(ApiTest, RequestsRefusedBeforeRoutingAreCounted) {
  {
    RawConnection c(server_->port());
    ASSERT_TRUE(c.Send(Request("GET", "/healthz", "", "", "NoColonHere\r\n")));
    ExpectRawProblem(c.Next(), 400, "malformed-header");
  }
  for (int i = 0; i < 2; ++i) {
    RawConnection c(server_->port());
    ASSERT_TRUE(
        c.Send(Request("GET", "/healthz", "", "", "X-Long: " + std::string(9000, 'a') + "\r\n")));
    ExpectRawProblem(c.Next(), 431, "headers-too-large");
  }
  EXPECT_EQ(api().Get("/v1/no-such-route", kApplicant).status, 404);
  const std::string metrics = api().Get("/metrics", "").body;
  for (const char* series :
       {"tongban_http_requests_total{route=\"(request head)\",status=\"400\"} 1",
        "tongban_http_requests_total{route=\"(request head)\",status=\"431\"} 2",
        "tongban_http_requests_total{route=\"(no route)\",status=\"404\"} 1"}) {
    EXPECT_NE(metrics.find(series), std::string::npos) << series << "\n" << metrics;
  }
}

}  // namespace
}  // namespace tongban::api::api_test
