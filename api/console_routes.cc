#include "api/console_routes.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>

#include "api/http_util.h"
#include "api/problem.h"
#include "workflows/sha256.h"

namespace tongban::api {

namespace {

// Only the console's own files; inline script and style are refused, so markup injected through
// data could not run. `data:` and `blob:` images: the process graph is shown from a blob: URL.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

struct Served {
  std::string body;
  std::string etag;
};

std::string EntityTag(std::string_view body) {
  return "\"" + Sha256Hex(body).substr(0, 32) + "\"";
}

void SetSecurityHeaders(httplib::Response& res) {
  res.set_header("Content-Security-Policy", kContentSecurityPolicy);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
}

// A flat file name with a known extension: no folders, no dot files, so nothing outside the
// console's folder can be named.
bool IsAssetName(const std::string& name) {
  static const std::regex kName("[A-Za-z0-9_-][A-Za-z0-9._-]*");
  return name.size() <= 128 && std::regex_match(name, kName) && !ConsoleContentType(name).empty();
}

class AssetSource {
 public:
  explicit AssetSource(std::string dir) : dir_(std::move(dir)) {
    if (!dir_.empty()) return;
    for (const ConsoleAsset& asset : EmbeddedConsoleAssets()) {
      embedded_[std::string(asset.name)] = {std::string(asset.body), EntityTag(asset.body)};
    }
  }

  std::optional<Served> Find(const std::string& name) const {
    if (!IsAssetName(name)) return std::nullopt;
    if (dir_.empty()) {
      auto it = embedded_.find(name);
      if (it == embedded_.end()) return std::nullopt;
      return it->second;
    }
    std::ifstream in(std::filesystem::path(dir_) / name, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream body;
    body << in.rdbuf();
    Served served{body.str(), ""};
    served.etag = EntityTag(served.body);
    return served;
  }

 private:
  std::string dir_;
  std::map<std::string, Served> embedded_;
};

void SendAsset(const AssetSource& source, const std::string& name, const httplib::Request& req,
               httplib::Response& res) {
  SetSecurityHeaders(res);
  std::optional<Served> asset = source.Find(name);
  if (!asset) {
    SendProblem(res, MakeProblem(404, "not-found", "Not found", "no console asset " + name));
    return;
  }
  res.set_header("ETag", asset->etag);
  // Revalidated on every load: the asset URLs carry no version, and a 304 costs one round trip.
  res.set_header("Cache-Control", "no-cache");
  if (req.get_header_value("If-None-Match") == asset->etag) {
    res.status = 304;
    return;
  }
  res.set_content(asset->body, ConsoleContentType(name).c_str());
}

}  // namespace

std::string ConsoleContentType(std::string_view name) {
  auto ends_with = [name](std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  if (ends_with(".html")) return "text/html; charset=utf-8";
  if (ends_with(".js")) return "text/javascript; charset=utf-8";
  if (ends_with(".css")) return "text/css; charset=utf-8";
  if (ends_with(".svg")) return "image/svg+xml";
  return "";
}

void RegisterConsoleRoutes(const std::string& console_dir, httplib::Server& http) {
  auto source = std::make_shared<const AssetSource>(console_dir);
  auto page = [source](const httplib::Request& req, httplib::Response& res) {
    SendAsset(*source, "index.html", req, res);
  };
  http.Get("/", page);
  http.Get(R"(/track/([^/]+))", page);
  http.Get(R"(/console/(.+))", [source](const httplib::Request& req, httplib::Response& res) {
    SendAsset(*source, req.matches[1].str(), req, res);
  });
}

}  // namespace tongban::api
