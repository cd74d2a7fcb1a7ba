// The harness of the HTTP API tests: an ApiServer in-process on an ephemeral loopback port, over a
// new database of the store under test (engine/test_store.h: a temporary SQLite file, or a schema
// of its own on PostgreSQL in the suite's PostgreSQL variant), the shipped definitions and a
// principals set, on a simulated clock; and a small client that returns each reply with its body
// parsed.
//
// Thread safety: a TestServer serves from its own thread; an Api client is used by one thread.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <ostream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/server.h"
#include "engine/case_service.h"
#include "engine/clock.h"
#include "engine/definition_registry.h"
#include "engine/sqlite_store.h"
#include "engine/test_store.h"
#include "workflows/principals.h"

namespace tongban::api::harness {

std::string ReadFile(const std::string& path);
// A path under the test temporary directory, unique within this process.
std::string TempPath(const std::string& suffix);
// Removes the database a test named by `path` (test_store.h): a SQLite file and its journals, or
// its PostgreSQL schema.
void RemoveDatabase(const std::string& path);
// The instant of an RFC 3339 timestamp (a test failure when it is not one).
Instant At(const std::string& timestamp);
// Runs `sql` on the SQLite file at `path` over a connection of its own, as someone tampering with
// the database would (a test failure when it fails). In the PostgreSQL variant, the same SQL on the
// test's schema (TamperWithPostgres in engine/test_store.h).
void ExecSql(const std::string& path, const std::string& sql);

struct Reply {
  int status = 0;  // 0: no response (connection failed)
  std::string body;
  httplib::Headers headers;
  nlohmann::json doc;  // the body parsed, when it is JSON

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  std::string ContentType() const { return Header("Content-Type"); }
  std::string ProblemType() const {
    return doc.is_object() && doc.contains("type") && doc["type"].is_string()
               ? doc["type"].get<std::string>()
               : "";
  }
};

std::ostream& operator<<(std::ostream& out, const Reply& r);
Reply ToReply(const httplib::Result& result);

class Api {
 public:
  explicit Api(int port);

  Reply Get(const std::string& path, const std::string& token = "", httplib::Headers headers = {});
  Reply PostRaw(const std::string& path, const std::string& token, const std::string& body,
                httplib::Headers headers = {});
  Reply Post(const std::string& path, const std::string& token, const nlohmann::json& body,
             httplib::Headers headers = {});
  Reply Act(const std::string& case_id, const std::string& token, const std::string& action,
            const nlohmann::json& data = nlohmann::json::object(), httplib::Headers headers = {});
  // A POST of raw bytes as `content_type` (a document upload).
  Reply PostBytes(const std::string& path, const std::string& token, const std::string& body,
                  const std::string& content_type);

 private:
  httplib::Client client_;
};

// The server over a new database with `definitions` deployed at `start`, serving `principals`,
// holding a checkpoint key of its own (POST /v1/admin/checkpoints exists) unless `options` names
// a schedule.
class TestServer {
 public:
  TestServer(std::shared_ptr<const PrincipalSet> principals, const std::string& definitions,
             const std::string& start, ServerOptions options = {},
             CaseServiceOptions service_options = {});
  ~TestServer();

  int port() const { return port_; }
  // The path naming the database (test_store.h); on SQLite the file itself.
  const std::string& db_path() const { return db_path_; }
  ApiServer& server() { return *server_; }
  CaseService& service() { return *service_; }
  SimulatedClock& clock() { return *clock_; }
  DefinitionRegistry& registry() { return *registry_; }

 private:
  std::string db_path_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<SimulatedClock> clock_;
  std::unique_ptr<DefinitionRegistry> registry_;
  std::unique_ptr<CaseService> service_;
  std::string key_path_;
  std::unique_ptr<CheckpointSchedule> checkpoints_;  // with a key of its own: the route exists
  std::unique_ptr<ApiServer> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace tongban::api::harness
