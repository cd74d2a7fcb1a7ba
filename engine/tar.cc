#include "engine/tar.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace tongban {

namespace {

constexpr size_t kBlock = 512;

void PutOctal(char* field, size_t width, uint64_t value) {
  // width - 1 digits and a NUL, as ustar asks.
  field[width - 1] = '\0';
  for (size_t i = width - 1; i > 0; --i) {
    field[i - 1] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
}

unsigned Checksum(const char* header) {
  unsigned sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    // The checksum field itself counts as spaces.
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(header[i]);
  }
  return sum;
}

uint64_t ReadOctal(const char* field, size_t width, bool* ok) {
  uint64_t value = 0;
  size_t i = 0;
  while (i < width && field[i] == ' ')
    ++i;
  bool digits = false;
  for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i) {
    value = value * 8 + static_cast<uint64_t>(field[i] - '0');
    digits = true;
  }
  for (; i < width; ++i) {
    if (field[i] != '\0' && field[i] != ' ') *ok = false;
  }
  if (!digits) *ok = false;
  return value;
}

std::string Field(const char* field, size_t width) {
  return std::string(field, strnlen(field, width));
}

}  // namespace

Status TarWriter::Add(const std::string& path, std::string_view content, Instant mtime) {
  std::string prefix;
  std::string name = path;
  if (name.size() > 100) {
    const size_t slash = path.rfind('/', path.size() - 2);
    if (slash == std::string::npos || slash > 155 || path.size() - slash - 1 > 100) {
      return Status::InvalidArgument("path \"" + path + "\" is too long for a ustar archive");
    }
    prefix = path.substr(0, slash);
    name = path.substr(slash + 1);
  }
  if (name.empty()) return Status::InvalidArgument("an archive file needs a name");
  char header[kBlock];
  std::memset(header, 0, sizeof header);
  std::memcpy(header, name.data(), name.size());
  PutOctal(header + 100, 8, 0644);
  PutOctal(header + 108, 8, 0);
  PutOctal(header + 116, 8, 0);
  PutOctal(header + 124, 12, content.size());
  const auto seconds = std::chrono::floor<std::chrono::seconds>(mtime).time_since_epoch().count();
  PutOctal(header + 136, 12, static_cast<uint64_t>(seconds < 0 ? 0 : seconds));
  header[156] = '0';
  std::memcpy(header + 257, "ustar", 6);  // with its NUL
  std::memcpy(header + 263, "00", 2);
  std::memcpy(header + 265, "tongban", 7);
  std::memcpy(header + 297, "tongban", 7);
  std::memcpy(header + 345, prefix.data(), prefix.size());
  PutOctal(header + 148, 7, Checksum(header));  // six digits, a NUL, then a space
  header[155] = ' ';
  out_.append(header, kBlock);
  out_.append(content);
  out_.append((kBlock - content.size() % kBlock) % kBlock, '\0');
  return Status::Ok();
}

std::string TarWriter::Finish() {
  out_.append(2 * kBlock, '\0');
  std::string done;
  done.swap(out_);
  return done;
}

Result<std::vector<TarFile>> ReadTar(std::string_view archive) {
  std::vector<TarFile> files;
  size_t at = 0;
  while (true) {
    if (at + kBlock > archive.size()) {
      return Status::DataLoss("the archive ends at byte " + std::to_string(archive.size()) +
                              " without its closing blocks");
    }
    const char* header = archive.data() + at;
    if (std::all_of(header, header + kBlock, [](char c) { return c == '\0'; })) break;
    const std::string where = "the archive's entry at byte " + std::to_string(at);
    bool ok = true;
    const uint64_t recorded = ReadOctal(header + 148, 8, &ok);
    if (!ok || recorded != Checksum(header)) {
      return Status::DataLoss(where + ": its header's checksum does not match");
    }
    if (std::memcmp(header + 257, "ustar", 5) != 0) {
      return Status::DataLoss(where + ": not a ustar header");
    }
    if (header[156] != '0' && header[156] != '\0') {
      return Status::DataLoss(where + ": not a regular file (type '" + std::string(1, header[156]) +
                              "')");
    }
    const uint64_t size = ReadOctal(header + 124, 12, &ok);
    if (!ok) return Status::DataLoss(where + ": its size is not a number");
    TarFile f;
    const std::string prefix = Field(header + 345, 155);
    f.path = (prefix.empty() ? "" : prefix + "/") + Field(header, 100);
    f.offset = at;
    at += kBlock;
    if (size > archive.size() - at) {
      return Status::DataLoss("\"" + f.path + "\" (" + where + ") is cut short");
    }
    f.content.assign(archive.substr(at, size));
    at += (size + kBlock - 1) / kBlock * kBlock;
    files.push_back(std::move(f));
  }
  return files;
}

}  // namespace tongban
