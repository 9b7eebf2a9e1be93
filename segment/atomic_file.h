#pragma once
// Small metadata files replaced atomically: write `<name>.tmp`, fdatasync it, rename it over
// `<name>`, fsync the directory. A crash at any step leaves either the old file or the new one,
// never a mix (the partition checkpoint, the broker's topic and broker metadata).

#include <filesystem>
#include <optional>
#include <string_view>

#include "protocol/bytes.h"
#include "protocol/result.h"

namespace sluice {

// Replaces `path` with `contents` as described above. Errors keep errno and name the step.
[[nodiscard]] result<void> replace_file_atomically(const std::filesystem::path& path,
                                                   byte_span contents);

// The steps of replace_file_atomically for a caller that syncs asynchronously:
// write_unsynced_file creates (or truncates) `file`, writes `contents` without syncing and
// returns the open descriptor (the caller fdatasyncs and closes it); rename_file then puts it
// in place (the caller fsyncs the directory).
[[nodiscard]] result<int> write_unsynced_file(const std::filesystem::path& file,
                                              byte_span contents);
[[nodiscard]] result<void> rename_file(const std::filesystem::path& from,
                                       const std::filesystem::path& to);

// fsync of a directory, so a created, renamed or removed entry survives a machine crash.
[[nodiscard]] result<void> sync_directory(const std::filesystem::path& dir);

// The whole file; nullopt when it does not exist.
[[nodiscard]] result<std::optional<byte_buffer>> read_whole_file(const std::filesystem::path& path);

}  // namespace sluice
