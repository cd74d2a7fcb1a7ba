// The `tongban` subcommands. Each takes the whole argv and the index of its first own argument, and
// returns the process exit code (see cli.h).
#pragma once

#include <string>

namespace tongban {
class Engine;
struct VerifyReport;
}  // namespace tongban

namespace tongban::cli {

int ValidateCommand(int argc, char** argv, int first);
int GraphCommand(int argc, char** argv, int first);
int BenchCommand(int argc, char** argv, int first);
int ScenarioCommand(int argc, char** argv, int first);
int ReplayCommand(int argc, char** argv, int first);
int VerifyCommand(int argc, char** argv, int first);
int CopyCommand(int argc, char** argv, int first);
int MigrateCommand(int argc, char** argv, int first);
int ServeCommand(int argc, char** argv, int first);
int TokenCommand(int argc, char** argv, int first);
int KeygenCommand(int argc, char** argv, int first);
int CheckpointCommand(int argc, char** argv, int first);
int ExportCommand(int argc, char** argv, int first);

// `tongban verify --archive FILE` (archive_command.cc): checks a case archive with nothing else,
// prints each finding; returns the exit code.
int VerifyArchive(const std::string& path, bool json);

// `tongban verify --checkpoint` (checkpoint_command.cc): checks the witness's signature with the
// public key, compares the database with it, and prints `report` (the whole-database
// verification) and every finding; returns the exit code.
int VerifyWithCheckpoint(Engine* engine, const VerifyReport& report, const std::string& witness,
                         const std::string& public_key, bool json);

class Args;
// `tongban bench http` (bench_http.cc), dispatched from BenchCommand.
int BenchHttp(const Args& args);

}  // namespace tongban::cli

#include <string>
#include <vector>

#include "workflows/definition_set.h"

namespace tongban::cli {

// Loads `paths` as reported definitions and, as context, every `--with` path plus the nearest
// `calendars/`, `items/` and `delegations/` folders above each path (so an item validates against
// its shipped calendars, and a bundle or agreements list against the shipped items and
// delegations). Context never loads a reported file a second time.
void LoadDefinitions(DefinitionSet* set, const std::vector<std::string>& paths,
                     const std::vector<std::string>& with);

}  // namespace tongban::cli
