// Files that are evidence (a checkpoint's witness, a case's archive): written whole, on disk before
// anyone is told where they are, and never over a file that exists.
//
// Thread safety: the functions share no state; two of them writing one path race as the file
// system lets them (one wins, the other reports kAlreadyExists).
#pragma once

#include <string>
#include <string_view>

#include "workflows/status.h"

namespace tongban {

// Writes all of `bytes` to `fd`, fsyncs and closes it (always closed). kInternal naming `what`
// ("witness PATH") and the system's reason when any of the three fails.
Status WriteSyncAndClose(int fd, std::string_view bytes, const std::string& what);

// Writes `bytes` to a new file at `path`: first to PATH.partial, synced, then linked into place
// (link fails where rename would replace), so that a reader never sees half a file and a file that
// is at `path`, or appears there meanwhile, is left as it is. The partial file is removed either
// way. kAlreadyExists when `path` exists; kInternal naming `path` for any other failure.
Status WriteNewFile(const std::string& path, std::string_view bytes);

}  // namespace tongban
