// A tar archive (POSIX ustar) of regular files, written and read in memory: the case archive's
// container (case_archive.h). Our own few lines rather than libarchive: the archive holds regular
// files only, and ustar is the format every tar reads (GNU tar, bsdtar, 7-Zip, Python's tarfile).
//
// Thread safety: TarWriter is a plain object, one per thread; ReadTar is a pure function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "workflows/calendar.h"
#include "workflows/status.h"

namespace tongban {

class TarWriter {
 public:
  // Appends a regular file (mode 0644) modified at `mtime`. kInvalidArgument for a path ustar
  // cannot hold (longer than 100 bytes, or its directory longer than 155), or an empty path.
  Status Add(const std::string& path, std::string_view content, Instant mtime);
  // The archive: the files and the two zero blocks that end it. The writer is empty afterwards.
  std::string Finish();

 private:
  std::string out_;
};

struct TarFile {
  std::string path;
  std::string content;
  size_t offset = 0;  // of its header in the archive, for messages
};

// The regular files of an archive, in order. kDataLoss naming the byte offset when a header's
// checksum does not match, a header is not ustar, a file is cut short, or an entry is not a
// regular file.
Result<std::vector<TarFile>> ReadTar(std::string_view archive);

}  // namespace tongban
