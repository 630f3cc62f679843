// The layering rules of docs/architecture.md, checked on the source tree:
//  - only replay/host/ may touch host time, the terminal or randomness;
//  - each folder includes only the folders below it.
// Failures name file:line so the offending call is one click away.
#define BOOST_TEST_MODULE layering
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path kRoot = REWIND_SOURCE_DIR;

bool is_source(const fs::path& p) {
  auto ext = p.extension().string();
  return ext == ".h" || ext == ".cc" || ext == ".cpp" || ext == ".hpp" || ext == ".inc";
}

// Source text with comments and string literals blanked, line structure kept,
// so a comment that *mentions* a forbidden call is not a violation.
std::string strip_comments_and_strings(const std::string& text) {
  std::string out = text;
  enum { kCode, kLine, kBlock, kString, kChar } state = kCode;
  for (size_t i = 0; i < out.size(); ++i) {
    char c = out[i];
    char next = i + 1 < out.size() ? out[i + 1] : '\0';
    switch (state) {
      case kCode:
        if (c == '/' && next == '/') { state = kLine; out[i] = ' '; }
        else if (c == '/' && next == '*') { state = kBlock; out[i] = ' '; }
        else if (c == '"') state = kString;
        else if (c == '\'') state = kChar;
        break;
      case kLine:
        if (c == '\n') state = kCode; else out[i] = ' ';
        break;
      case kBlock:
        if (c == '*' && next == '/') { out[i] = out[i + 1] = ' '; ++i; state = kCode; }
        else if (c != '\n') out[i] = ' ';
        break;
      case kString:
      case kChar:
        if (c == '\\') { out[i] = ' '; if (i + 1 < out.size() && out[i + 1] != '\n') out[++i] = ' '; }
        else if ((state == kString && c == '"') || (state == kChar && c == '\'')) state = kCode;
        else if (c != '\n') out[i] = ' ';
        break;
    }
  }
  return out;
}

struct Hit {
  std::string where;
  std::string what;
};

std::vector<Hit> scan(const fs::path& dir, const std::regex& pattern, bool on_raw_includes) {
  std::vector<Hit> hits;
  if (!fs::exists(dir)) return hits;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file() || !is_source(entry.path())) continue;
    std::ifstream in(entry.path());
    std::stringstream buf;
    buf << in.rdbuf();
    std::string text = on_raw_includes ? buf.str() : strip_comments_and_strings(buf.str());
    std::istringstream lines(text);
    std::string line;
    for (int n = 1; std::getline(lines, line); ++n) {
      std::smatch m;
      if (std::regex_search(line, m, pattern))
        hits.push_back({fs::relative(entry.path(), kRoot).string() + ":" + std::to_string(n), m.str()});
    }
  }
  return hits;
}

void expect_none(const std::vector<Hit>& hits, const std::string& rule) {
  for (const Hit& h : hits) BOOST_ERROR(h.where << ": " << rule << ": '" << h.what << "'");
}

}  // namespace

BOOST_AUTO_TEST_CASE(only_replay_host_touches_host_time_terminal_or_randomness) {
  // Calls and headers through which host time, terminal input or randomness
  // would leak into a run.
  const std::regex forbidden(
      R"(\b(clock_gettime|gettimeofday|time\s*\(|std::chrono::(system|steady|high_resolution)_clock|)"
      R"(std::random_device|getrandom|s?rand\s*\(|random\s*\(|__rdtsc|rdtsc|tcgetattr|tcsetattr|isatty|)"
      R"(std::cin|getchar|fgetc\s*\(\s*stdin|STDIN_FILENO)\b|#\s*include\s*<(ctime|time\.h|chrono|random|termios\.h|sys/time\.h|sys/random\.h)>)");
  for (const char* folder : {"core", "hw", "tcg-llvm", "kvm", "analysis", "traces", "tools"})
    expect_none(scan(kRoot / folder, forbidden, false),
                "host time/terminal/randomness outside replay/host/ (ask replay::Inputs)");
  // replay/ itself, outside host/, is the recording/replaying logic: it must
  // not reach the host either.
  std::vector<Hit> in_replay = scan(kRoot / "replay", forbidden, false);
  std::erase_if(in_replay, [](const Hit& h) { return h.where.rfind("replay/host/", 0) == 0; });
  expect_none(in_replay, "host access in replay/ outside replay/host/");
}

BOOST_AUTO_TEST_CASE(folders_include_only_what_lies_below_them) {
  struct Rule {
    const char* folder;
    const char* forbidden_includes;
  };
  // Arrows of docs/architecture.md: a folder may include the ones below it only.
  const Rule rules[] = {
      {"core", R"(#\s*include\s*"(replay|traces|hw|tcg-llvm|kvm|analysis|tools)/)"},
      {"traces", R"(#\s*include\s*"(core|replay|hw|tcg-llvm|kvm|analysis|tools)/)"},
      {"replay", R"(#\s*include\s*"(hw|tcg-llvm|kvm|analysis|tools)/)"},
      {"hw", R"(#\s*include\s*"(tcg-llvm|kvm|analysis|tools|replay/host)/)"},
      {"tcg-llvm", R"(#\s*include\s*"(hw|kvm|analysis|tools|replay/host)/)"},
      {"kvm", R"(#\s*include\s*"(hw|tcg-llvm|analysis|tools|replay/host)/)"},
      {"analysis", R"(#\s*include\s*"(hw|kvm|tools|replay/host)/)"},
  };
  for (const Rule& rule : rules)
    expect_none(scan(kRoot / rule.folder, std::regex(rule.forbidden_includes), true),
                std::string(rule.folder) + "/ includes a folder above it");
}

BOOST_AUTO_TEST_CASE(scanner_sees_a_violation_and_ignores_comments) {
  // The scanner itself must be able to fail: a planted call is found, a
  // mention in a comment or string is not.
  const std::string code = "int a = 1; // clock_gettime in a comment\nauto t = clock_gettime(0, &ts);\nconst char* s = \"time(\";\n";
  std::string stripped = strip_comments_and_strings(code);
  const std::regex forbidden(R"(\b(clock_gettime|time\s*\())");
  int count = 0;
  std::istringstream lines(stripped);
  std::string line;
  int hit_line = 0;
  for (int n = 1; std::getline(lines, line); ++n)
    if (std::regex_search(line, forbidden)) { ++count; hit_line = n; }
  BOOST_TEST(count == 1);
  BOOST_TEST(hit_line == 2);
}
