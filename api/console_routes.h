// The web console (api/console/): the pages people use — public tracking, the staff workbench, the
// modeller and the auditor's view — served by `tongban serve` on the API's own origin, so that the
// pages call the JSON API with the same bearer tokens and no cross-origin rules.
//
// Routes (not part of the JSON API, so not in routes.cc or openapi.json):
//   GET /                   the console (index.html)
//   GET /track/{number}     the same page; its script reads the number and ?code= (a stable link
//                           for a notice or a text message)
//   GET /console/{asset}    an asset: text/html, text/javascript, text/css or image/svg+xml;
//                           an unknown asset is a 404 problem
// Every response carries a strict Content-Security-Policy (only the console's own scripts and
// styles, no inline ones; fetches to the same origin), nosniff, no-referrer (the tracking code is
// in the URL) and an ETag with Cache-Control: no-cache (revalidated, answered 304 when unchanged).
//
// The assets are compiled into the binary (api/console_assets.cmake); `console_dir` serves them
// from that folder instead, read at every request, for working on the console without rebuilding.
//
// Thread safety: the embedded assets are immutable; the handlers run concurrently.
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>
#include <vector>

namespace tongban::api {

struct ConsoleAsset {
  std::string_view name;  // a file name of api/console/, e.g. "app.js"
  std::string_view body;
};

// The assets compiled in (console_assets.cc, generated).
const std::vector<ConsoleAsset>& EmbeddedConsoleAssets();

// The Content-Type of an asset by its extension; empty for one the console does not serve.
std::string ConsoleContentType(std::string_view name);

// Registers the console's routes on `http`: the embedded assets, or the files of `console_dir`
// when it is not empty.
void RegisterConsoleRoutes(const std::string& console_dir, httplib::Server& http);

}  // namespace tongban::api
