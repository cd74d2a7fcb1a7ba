// API tests of stopping the server: Stop() at any moment ends Serve(), and the real `tongban serve`
// binary, run in a child process, stops on SIGTERM under load without losing an acknowledged write.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api_test_fixture.h"
#include "api/server.h"
#include "engine/case_service.h"
#include "engine/clock.h"
#include "engine/definition_registry.h"
#include "engine/sqlite_store.h"
#include "engine/test_store.h"

namespace tongban::api::api_test {
namespace {

// ---- Stopping the in-process server -------------------------------------------------------------

// True when nothing listens on the loopback port (the connection is refused).
bool ConnectionRefused(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  int error = errno;
  close(fd);
  return rc != 0 && error == ECONNREFUSED;
}

// Stop() right after Bind(), before the serving thread has even started, still ends Serve().
TEST(ApiServerTest, StopBeforeServeDoesNotHang) {
  std::string db_path = TempPath(".db");
  SqliteStoreOptions store_options;
  store_options.path = db_path;
  auto store = OpenStoreUnderTest(store_options);
  ASSERT_TRUE(store.ok());
  DefinitionRegistry registry(store->get());
  SimulatedClock clock(At(kStart));
  CaseService service(store->get(), &registry, &clock);
  ServerOptions options;
  options.port = 0;
  options.threads = 2;
  auto principals = LoadPrincipals(false);
  for (int i = 0; i < 20; ++i) {
    ApiServer server(&service, principals, &clock, options);
    ASSERT_TRUE(server.Bind().ok());
    server.Stop();
    std::thread serving([&] { server.Serve(); });
    serving.join();
  }
  // Stop() racing with the start of Serve(): before the fix a stop that came before httplib marked
  // itself running was lost, and Serve() never returned.
  for (int i = 0; i < 200; ++i) {
    ApiServer server(&service, principals, &clock, options);
    auto port = server.Bind();
    ASSERT_TRUE(port.ok());
    std::thread serving([&] { server.Serve(); });
    if (i % 2 == 1) std::this_thread::sleep_for(std::chrono::microseconds(50 * (i % 7)));
    server.Stop();
    serving.join();
    EXPECT_TRUE(ConnectionRefused(*port));
  }
  store->reset();
  RemoveDatabase(db_path);
}

// ---- Graceful shutdown of the real server -------------------------------------------------------

struct Child {
  pid_t pid = -1;
  int stdout_fd = -1;
};

Child SpawnServe(const std::string& db_path, const std::string& stderr_path) {
  std::vector<std::string> args = {
      kBinary,         "serve",
      "--listen",      "127.0.0.1:0",
      "--db",          DatabaseUnderTest(db_path),
      "--definitions", kSourceDir + "/definitions",
      "--principals",  kSourceDir + "/definitions/principals/demo.json",
      "--clock",       std::string("simulated:") + kStart,
      "--threads",     "64"};
  // Everything the child needs is prepared before fork(): after it, only async-signal-safe calls.
  std::vector<char*> argv;
  for (std::string& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  EXPECT_EQ(pipe(out), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) dup2(err, STDERR_FILENO);
    close(out[0]);
    close(out[1]);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  return Child{pid, out[0]};
}

// The first line the child writes on stdout, within `timeout`.
std::string ReadFirstLine(int fd, std::chrono::milliseconds timeout) {
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, 50);
    if (ready <= 0) continue;
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n <= 0) break;
    if (c == '\n') return line;
    line += c;
  }
  return line;
}

// Waits for the child to exit within `timeout`; returns its wait status, or nullopt.
std::optional<int> WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return std::nullopt;
}

TEST(ApiShutdownTest, SigtermUnderLoadLosesNoAcknowledgedWrite) {
  const std::string db_path = TempPath(".db");
  const std::string stderr_path = TempPath(".stderr");
  Child child = SpawnServe(db_path, stderr_path);
  ASSERT_GT(child.pid, 0);
  std::string first = ReadFirstLine(child.stdout_fd, std::chrono::seconds(20));
  std::smatch m;
  ASSERT_TRUE(std::regex_match(first, m, std::regex("listening on 127\\.0\\.0\\.1:([0-9]+)")))
      << "first line: '" << first << "'\n"
      << ReadFile(stderr_path);
  const int port = std::stoi(m[1]);
  ASSERT_GT(port, 0);
  {
    Api probe(port);
    ASSERT_EQ(probe.Get("/healthz").status, 200);
  }

  // What the server acknowledged with a 2xx: a case (its submit event) or an action (event seq).
  struct Ack {
    std::string case_id;
    int64_t seq;
    std::string action;
  };
  std::mutex acks_mutex;
  std::vector<Ack> acks;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  auto record = [&](const std::string& id, int64_t seq, const std::string& action) {
    std::lock_guard<std::mutex> lock(acks_mutex);
    acks.push_back({id, seq, action});
  };
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t) {
    clients.emplace_back([&, t] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(t % 2 == 0);  // half reuse connections, half open one per request
      client.set_connection_timeout(2, 0);
      client.set_read_timeout(10, 0);
      auto post = [&](const std::string& path, const std::string& token, const json& body,
                      const std::string& key) {
        httplib::Headers headers = {{"Authorization", "Bearer " + token}, {"Idempotency-Key", key}};
        return ToReply(client.Post(path.c_str(), headers, body.dump(), "application/json"));
      };
      for (int i = 0; !stop.load(); ++i) {
        std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
        Reply created = post("/v1/cases", kApplicant, NewPermit(), key + "-create");
        if (created.status == 0) {
          ++failures;
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          continue;
        }
        if (created.status != 201) continue;
        std::string id = created.doc.value("id", "");
        record(id, 1, "submit");
        const std::pair<const char*, const char*> steps[] = {
            {kClerk, "accept"}, {kReviewer, "pass"}, {kApprover, "approve"}};
        for (const auto& [token, action] : steps) {
          Reply acted =
              post("/v1/cases/" + id + "/actions", token, {{"action", action}}, key + "-" + action);
          if (acted.status != 200) break;
          record(id, acted.doc.value("version", int64_t{0}), action);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ASSERT_EQ(kill(child.pid, SIGTERM), 0);
  const auto signalled = std::chrono::steady_clock::now();
  std::optional<int> status = WaitExit(child.pid, std::chrono::seconds(15));
  const auto took = std::chrono::steady_clock::now() - signalled;
  if (!status) {
    kill(child.pid, SIGKILL);
    waitpid(child.pid, nullptr, 0);
  }
  // New connections are refused once it has stopped.
  const bool refused = ConnectionRefused(port);
  stop = true;
  for (auto& t : clients)
    t.join();
  close(child.stdout_fd);
  const std::string log = ReadFile(stderr_path);
  ASSERT_TRUE(status.has_value()) << "tongban serve did not exit within 15 s of SIGTERM\n" << log;
  ASSERT_TRUE(WIFEXITED(*status)) << "killed by signal " << WTERMSIG(*status) << "\n" << log;
  EXPECT_EQ(WEXITSTATUS(*status), 0) << log;
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(took).count(), 8000) << log;
  EXPECT_NE(log.find("finishing in-flight requests"), std::string::npos) << log;
  EXPECT_TRUE(refused);
  {
    httplib::Client after("127.0.0.1", port);
    after.set_connection_timeout(1, 0);
    auto result = after.Get("/healthz");
    EXPECT_FALSE(result);
    EXPECT_EQ(result.error(), httplib::Error::Connection);
  }
  ASSERT_GT(acks.size(), 10u) << "the load did not get going";
  RecordProperty("acknowledged", static_cast<int>(acks.size()));
  RecordProperty(
      "shutdown_ms",
      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));

  // Every acknowledged case and action is in the database, and the database verifies.
  SqliteStoreOptions options;
  options.path = db_path;
  options.read_only = true;
  auto store = OpenStoreUnderTest(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  DefinitionRegistry registry(store->get());
  ASSERT_TRUE(registry.LoadFromStore().ok());
  SimulatedClock clock(At(kStart));
  CaseService service(store->get(), &registry, &clock);
  std::map<std::string, std::vector<Event>> histories;
  for (const Ack& ack : acks) {
    SCOPED_TRACE(ack.case_id + " " + ack.action);
    auto it = histories.find(ack.case_id);
    if (it == histories.end()) {
      auto events = service.History(ack.case_id);
      ASSERT_TRUE(events.ok()) << events.status().ToString();
      it = histories.emplace(ack.case_id, *events).first;
    }
    ASSERT_GE(ack.seq, 1);
    ASSERT_LE(static_cast<size_t>(ack.seq), it->second.size());
    EXPECT_EQ(it->second[ack.seq - 1].action, ack.action);
  }
  VerifyReport report = service.VerifyAll();
  EXPECT_TRUE(report.ok) << report.case_id << ": " << report.reason;
  EXPECT_GE(report.cases, static_cast<int64_t>(histories.size()));
  store->reset();
  // The command-line verifier agrees.
  std::string verify = kBinary + " verify --db '" + DatabaseUnderTest(db_path) + "' 2>&1";
  FILE* pipe = popen(verify.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[512];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0)
    output.append(buffer, n);
  int verify_status = pclose(pipe);
  EXPECT_TRUE(WIFEXITED(verify_status) && WEXITSTATUS(verify_status) == 0) << output;
  EXPECT_NE(output.find("OK: "), std::string::npos) << output;
  RemoveDatabase(db_path);
  std::remove(stderr_path.c_str());
}

// A SIGTERM that arrives as the server starts is not lost: it still exits, cleanly.
TEST(ApiShutdownTest, SigtermRightAfterStartExitsCleanly) {
  const std::string db_path = TempPath(".db");
  const std::string stderr_path = TempPath(".stderr");
  Child child = SpawnServe(db_path, stderr_path);
  ASSERT_GT(child.pid, 0);
  std::string first = ReadFirstLine(child.stdout_fd, std::chrono::seconds(20));
  ASSERT_EQ(first.rfind("listening on 127.0.0.1:", 0), 0u) << first << ReadFile(stderr_path);
  ASSERT_EQ(kill(child.pid, SIGTERM), 0);
  std::optional<int> status = WaitExit(child.pid, std::chrono::seconds(10));
  if (!status) {
    kill(child.pid, SIGKILL);
    waitpid(child.pid, nullptr, 0);
  }
  close(child.stdout_fd);
  ASSERT_TRUE(status.has_value()) << ReadFile(stderr_path);
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0) << ReadFile(stderr_path);
  RemoveDatabase(db_path);
  std::remove(stderr_path.c_str());
}

}  // namespace
}  // namespace tongban::api::api_test
