// TempDir: a fresh directory under $TMPDIR (or /tmp), removed with everything in it when the
// object goes away, pass or fail. Hermetic tests put every file they make in one.
#pragma once

#include <string>

namespace cistern::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The whole file as bytes ("" when it cannot be read): logs, ready files, screenshots.
std::string ReadFile(const std::string& path);

}  // namespace cistern::testing
