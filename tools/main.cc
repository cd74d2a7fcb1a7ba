// tongban: the command line of the Tongban workflow engine.
#include <cstring>
#include <iostream>
#include <string>

#include "tools/cli.h"
#include "tools/commands.h"

namespace {

constexpr const char* kUsage = R"(usage: tongban COMMAND [ARGS...]

Commands:
  serve      run the HTTP API on the definitions, on SQLite or PostgreSQL
  token      print a new API token and its principals-file line
  validate   check definition files and report every problem with its place
  graph      draw an item's whole case machine as Mermaid or Graphviz DOT
  scenario   run scenario files against a definition on a simulated clock
  replay     rebuild a case from its events, now or as it stood at a past time
  verify     check hash chains and snapshots of one case or a whole database
  export     write a case's archive file (events, definitions, registers, documents)
  copy       copy a whole database (SQLite to PostgreSQL) and verify the copy
  migrate    bring a database's schema to this version (SQLite or PostgreSQL)
  keygen     write an Ed25519 key pair for signing checkpoints
  checkpoint record a signed checkpoint of every case and the ledger, and its witness file
  bench      measure speed (see 'tongban bench --help')

'tongban COMMAND --help' describes a command.
Exit codes: 0 success, 1 problems found, 2 wrong usage, 3 could not do the work.
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace tongban::cli;
  if (argc < 2) {
    std::cerr << kUsage;
    return kExitUsage;
  }
  std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return kExitOk;
  }
  if (command == "--version") {
    std::cout << "tongban 0.1.0\n";
    return kExitOk;
  }
  if (command == "serve") return ServeCommand(argc, argv, 2);
  if (command == "token") return TokenCommand(argc, argv, 2);
  if (command == "validate") return ValidateCommand(argc, argv, 2);
  if (command == "graph") return GraphCommand(argc, argv, 2);
  if (command == "bench") return BenchCommand(argc, argv, 2);
  if (command == "scenario") return ScenarioCommand(argc, argv, 2);
  if (command == "replay") return ReplayCommand(argc, argv, 2);
  if (command == "verify") return VerifyCommand(argc, argv, 2);
  if (command == "export") return ExportCommand(argc, argv, 2);
  if (command == "copy") return CopyCommand(argc, argv, 2);
  if (command == "migrate") return MigrateCommand(argc, argv, 2);
  if (command == "keygen") return KeygenCommand(argc, argv, 2);
  if (command == "checkpoint") return CheckpointCommand(argc, argv, 2);
  std::cerr << "tongban: unknown command '" << command << "'\n" << kUsage;
  return kExitUsage;
}
