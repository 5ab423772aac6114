#include "policy/policy_loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <istream>
#include <new>
#include <optional>
#include <set>
#include <stdexcept>
#include <streambuf>
#include <string_view>
#include <system_error>

#include "core/clock.h"
#include "core/utf8.h"

namespace qorgau::policy {
namespace {

constexpr std::string_view kPolicyFormat = "qorgau.policy/1";
constexpr std::string_view kLawFormat = "qorgau.law/1";

// Collects problems for one file; every reader below reports through it.
class Ctx {
 public:
  Ctx(std::string file, std::vector<Diagnostic>* out) : file_(std::move(file)), out_(out) {}

  SourcePos Pos(const YAML::Mark& m) const {
    if (m.is_null() || m.line < 0) return {file_, 0, 0};
    return {file_, m.line + 1, m.column + 1};
  }
  SourcePos Pos(const YAML::Node& n) const {
    if (!n.IsDefined()) return {file_, 0, 0};
    return Pos(n.Mark());
  }
  void Error(const SourcePos& pos, std::string message) {
    out_->push_back({pos, std::move(message)});
  }
  void Error(const YAML::Node& n, std::string message) { Error(Pos(n), std::move(message)); }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<Diagnostic>* out_;
};

// Reads one YAML mapping: hands out the keys asked for and, at Done(),
// reports every key nobody asked for.
class MapReader {
 public:
  // An absent node (a missing key, already reported by Get) is not a
  // mapping either, but saying so again would only repeat that.
  MapReader(Ctx& ctx, const YAML::Node& node, std::string path)
      : ctx_(ctx), node_(node), path_(std::move(path)) {
    ok_ = node.IsDefined() && node.IsMap();
    if (!ok_ && node.IsDefined()) ctx_.Error(node, path_ + ": must be a mapping");
  }
  MapReader(const MapReader&) = delete;
  MapReader& operator=(const MapReader&) = delete;

  bool ok() const { return ok_; }
  const std::string& path() const { return path_; }
  SourcePos pos() const { return ctx_.Pos(node_); }

  YAML::Node Get(const std::string& key, bool required) {
    used_.insert(key);
    if (!ok_) return YAML::Node(YAML::NodeType::Undefined);
    YAML::Node v = node_[key];
    if (required && !v.IsDefined()) ctx_.Error(node_, path_ + ": missing required key '" + key + "'");
    return v;
  }

  void Done() {
    if (!ok_) return;
    for (const auto& kv : node_) {
      const std::string key = kv.first.Scalar();
      if (!used_.count(key)) ctx_.Error(kv.first, path_ + ": unknown key '" + key + "'");
    }
  }

 private:
  Ctx& ctx_;
  const YAML::Node node_;
  std::string path_;
  std::set<std::string> used_;
  bool ok_ = false;
};

// An ISO 3166-1 alpha-2 code as written: two capital Latin letters.
bool IsCountryCode(std::string_view c) {
  return c.size() == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z';
}

std::string TooLarge() { return "larger than " + std::to_string(kMaxPolicyFileBytes) + " bytes"; }

// Reads a regular file of at most kMaxPolicyFileBytes. O_NONBLOCK keeps open()
// from waiting for a writer when the path is a FIFO; fstat() then refuses it,
// a device (/dev/zero) or a directory before a byte is read. The size is
// checked again while reading, since the file may grow after fstat().
Result<std::string> ReadRegularFile(const std::filesystem::path& path) {
  auto os_error = [&path](int err) {
    std::string m = std::generic_category().message(err);
    if (!m.empty()) m[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(m[0])));
    return Fail(ErrorCode::kIo, path.string(), m);
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return os_error(errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return os_error(errno);
  if (!S_ISREG(st.st_mode)) return Fail(ErrorCode::kIo, path.string(), "not a regular file");
  if (st.st_size < 0 || static_cast<std::uintmax_t>(st.st_size) > kMaxPolicyFileBytes) {
    return Fail(ErrorCode::kIo, path.string(), TooLarge());
  }
  std::string content;
  content.reserve(static_cast<std::size_t>(st.st_size));
  char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return os_error(errno);
    if (n == 0) break;
    if (content.size() + static_cast<std::size_t>(n) > kMaxPolicyFileBytes) {
      return Fail(ErrorCode::kIo, path.string(), TooLarge());
    }
    content.append(buf, static_cast<std::size_t>(n));
  }
  return content;
}

// The loader's own check of the limit, so that a FileReader that does not
// enforce it (one written for a test, a future store) cannot bypass it.
Result<std::string> ReadLimited(const FileReader& read, const std::string& rel) {
  Result<std::string> r = read(rel);
  if (r && r->size() > kMaxPolicyFileBytes) return Fail(ErrorCode::kIo, rel, TooLarge());
  return r;
}

// Thrown from inside yaml-cpp's parser to stop it; never leaves this file.
struct StopParsing {};

// Sees the parser's events before any node tree is built, to refuse what the
// tree would hide or what would make building it costly: duplicate keys
// (yaml-cpp keeps one silently), a second document (YAML::Load reads only the
// first), anchors and aliases (a reviewed legal text must say everything
// where it applies, and aliases are how a few bytes become billions of
// nodes), too many nodes, too deep a nesting.
class Screen final : public YAML::EventHandler {
 public:
  Screen(Ctx& ctx, std::string root_name) : ctx_(ctx), root_name_(std::move(root_name)) {}

  // Whether the node tree must not be built (the problem is reported).
  bool fatal() const { return fatal_; }

  // Called by the input buffer before it hands the parser more bytes.
  void CheckLookahead(std::size_t delivered) {
    if (delivered <= reported_ + kMaxPolicyLookaheadBytes) return;
    Stop(last_mark_, "more than " + std::to_string(kMaxPolicyLookaheadBytes) +
                         " bytes without a new YAML node: a scalar, a flow list or map ([...], "
                         "{...}) or a comment this long is refused");
  }

  void OnDocumentStart(const YAML::Mark& mark) override {
    Seen(mark);
    // The first document is read completely by then, so it is still walked.
    if (++documents_ > 1) Stop(mark, "a policy file holds one YAML document", false);
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    BeginNode(mark, anchor, "null");
    EndNode();
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    Seen(mark);
    Stop(mark, "alias: " + std::string(kNoAnchors));
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    BeginNode(mark, anchor, value);
    EndNode();
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    BeginNode(mark, anchor, std::nullopt);
    Open(mark, false);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    BeginNode(mark, anchor, std::nullopt);
    Open(mark, true);
  }
  void OnMapEnd() override { Close(); }
  void OnAnchor(const YAML::Mark& mark, const std::string& name) override {
    Seen(mark);
    Stop(mark, "anchor '&" + name + "': " + std::string(kNoAnchors));
  }

 private:
  static constexpr std::string_view kNoAnchors =
      "anchors and aliases are not allowed in a policy file; write the value out";

  struct Frame {
    bool map = false;
    bool expect_key = true;           // maps: the next node is a key
    std::size_t index = 0;            // lists: the index of the next item
    std::string key;                  // maps: the key of the value being read
    std::map<std::string, int> keys;  // maps: each key and the line it is first on
  };

  void Seen(const YAML::Mark& mark) {
    if (mark.pos < 0) return;
    last_mark_ = mark;
    reported_ = std::max(reported_, static_cast<std::size_t>(mark.pos));
  }

  [[noreturn]] void Stop(const YAML::Mark& mark, std::string message, bool fatal = true) {
    ctx_.Error(ctx_.Pos(mark), std::move(message));
    fatal_ = fatal;
    throw StopParsing{};
  }

  // `scalar` is the node's text when it is a scalar, for the key check.
  void BeginNode(const YAML::Mark& mark, YAML::anchor_t anchor,
                 const std::optional<std::string>& scalar) {
    Seen(mark);
    // yaml-cpp reports the anchor by OnAnchor first; this is the fallback.
    if (anchor != YAML::NullAnchor) Stop(mark, std::string(kNoAnchors));
    if (++nodes_ > kMaxPolicyNodes) {
      Stop(mark, "more than " + std::to_string(kMaxPolicyNodes) + " YAML nodes");
    }
    if (frames_.empty() || !frames_.back().map || !frames_.back().expect_key) return;
    Frame& map = frames_.back();
    // A list or map used as a key is left to the walk, which refuses it as
    // an unknown key; only text keys can be compared.
    map.key = scalar.value_or("?");
    if (!scalar) return;
    const int line = mark.line + 1;
    auto [first, fresh] = map.keys.emplace(*scalar, line);
    if (!fresh) {
      ctx_.Error(ctx_.Pos(mark), Path() + ": duplicate key '" + *scalar + "' (first at line " +
                                     std::to_string(first->second) + ")");
    }
  }

  void EndNode() {
    if (frames_.empty()) return;
    Frame& parent = frames_.back();
    if (parent.map) {
      parent.expect_key = !parent.expect_key;
    } else {
      ++parent.index;
    }
  }

  void Open(const YAML::Mark& mark, bool map) {
    if (frames_.size() >= kMaxPolicyDepth) {
      Stop(mark, "lists and maps nested more than " + std::to_string(kMaxPolicyDepth) + " deep");
    }
    Frame f;
    f.map = map;
    frames_.push_back(std::move(f));
  }

  void Close() {
    if (!frames_.empty()) frames_.pop_back();
    EndNode();
  }

  // The path of the innermost map, as the walk names it: "edition.texts",
  // "channels[2].name".
  std::string Path() const {
    std::string path;
    for (std::size_t i = 0; i + 1 < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      if (f.map) {
        if (!path.empty()) path += '.';
        path += f.key;
      } else {
        path += "[" + std::to_string(f.index) + "]";
      }
    }
    return path.empty() ? root_name_ : path;
  }

  Ctx& ctx_;
  std::string root_name_;
  std::vector<Frame> frames_;
  std::size_t nodes_ = 0;
  int documents_ = 0;
  std::size_t reported_ = 0;  // the furthest position an event was reported at
  YAML::Mark last_mark_;
  bool fatal_ = false;
};

// Hands the content to yaml-cpp in small pieces, letting the screen refuse
// to hand out more when the parser runs too far ahead of its events.
class ScreenedInput final : public std::streambuf {
 public:
  ScreenedInput(std::string_view content, Screen& screen) : content_(content), screen_(screen) {}

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (next_ >= content_.size()) return traits_type::eof();
    screen_.CheckLookahead(next_);
    const std::size_t n = std::min(kPiece, content_.size() - next_);
    char* begin = const_cast<char*>(content_.data() + next_);
    setg(begin, begin, begin + n);
    next_ += n;
    return traits_type::to_int_type(*gptr());
  }

 private:
  static constexpr std::size_t kPiece = 4096;
  std::string_view content_;
  Screen& screen_;
  std::size_t next_ = 0;
};

// yaml-cpp guesses UTF-16 or UTF-32 from a byte-order mark or from NUL bytes
// and would then count positions in other units than bytes; policy files
// are UTF-8, so those never reach it.
bool CheckUtf8(Ctx& ctx, std::string_view content) {
  if (content.starts_with("\xFE\xFF") || content.starts_with("\xFF\xFE")) {
    ctx.Error(SourcePos{ctx.file(), 1, 1}, "the file must be UTF-8 text, not UTF-16 or UTF-32");
    return false;
  }
  // The first NUL or malformed byte (core/utf8.h), with its position.
  const std::size_t nul = content.find('\0');
  const std::size_t bad = std::min(nul, FirstInvalidUtf8(content));
  if (bad == std::string_view::npos) return true;
  int line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < bad; ++i) {
    if (content[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  ctx.Error(SourcePos{ctx.file(), line, static_cast<int>(bad - line_start) + 1},
            bad == nul ? "the file must be UTF-8 text without NUL bytes"
                       : "the file is not valid UTF-8 here (save it as UTF-8)");
  return false;
}

// The node tree of the file's one document, or nullopt when there is none
// worth walking (the problems say why). The screen runs over the whole file
// first, so the tree is built only from input within the limits.
std::optional<YAML::Node> ParseDocument(Ctx& ctx, const std::string& content,
                                        const std::string& root_name) {
  if (!CheckUtf8(ctx, content)) return std::nullopt;
  Screen screen(ctx, root_name);
  ScreenedInput buf(content, screen);
  std::istream in(&buf);
  // Without this, an istream member that catches the screen's exception
  // would turn it into an end of input.
  in.exceptions(std::ios::badbit);
  try {
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(screen)) {
    }
  } catch (const StopParsing&) {
    if (screen.fatal()) return std::nullopt;
  } catch (const YAML::ParserException& e) {
    ctx.Error(ctx.Pos(e.mark), "YAML syntax: " + e.msg);
    return std::nullopt;
  }
  return YAML::Load(content);
}

// Runs the walk of one file, turning whatever escapes it into a problem of
// that file, so that one broken file neither aborts the program nor hides
// the problems of the others.
template <typename F>
void Guarded(Ctx& ctx, F walk) {
  try {
    walk();
  } catch (const YAML::Exception& e) {
    ctx.Error(ctx.Pos(e.mark), "cannot read this YAML: " + e.msg);
  } catch (const std::bad_alloc&) {
    ctx.Error(SourcePos{ctx.file(), 0, 0}, "out of memory while loading the file");
  } catch (const std::length_error&) {
    ctx.Error(SourcePos{ctx.file(), 0, 0}, "a value too large to load");
  } catch (const std::exception& e) {
    ctx.Error(SourcePos{ctx.file(), 0, 0}, std::string("cannot load the file: ") + e.what());
  }
}

std::string Join(std::string_view a, std::string_view b) {
  std::string s(a);
  s += '.';
  s += b;
  return s;
}

bool ReadString(Ctx& ctx, const YAML::Node& n, const std::string& path, std::string* out) {
  if (!n.IsDefined()) return false;
  if (!n.IsScalar()) {
    ctx.Error(n, path + ": must be a string");
    return false;
  }
  *out = n.Scalar();
  if (out->empty()) {
    ctx.Error(n, path + ": must not be empty");
    return false;
  }
  return true;
}

bool ReadInt(Ctx& ctx, const YAML::Node& n, const std::string& path, int* out) {
  if (!n.IsDefined()) return false;
  try {
    if (n.IsScalar()) {
      *out = n.as<int>();
      return true;
    }
  } catch (const YAML::Exception&) {
  }
  ctx.Error(n, path + ": must be an integer");
  return false;
}

bool ReadBool(Ctx& ctx, const YAML::Node& n, const std::string& path, bool* out) {
  if (!n.IsDefined()) return false;
  try {
    if (n.IsScalar()) {
      *out = n.as<bool>();
      return true;
    }
  } catch (const YAML::Exception&) {
  }
  ctx.Error(n, path + ": must be true or false");
  return false;
}

bool ReadEnum(Ctx& ctx, const YAML::Node& n, const std::string& path,
              std::initializer_list<std::string_view> allowed, std::string* out) {
  std::string v;
  if (!ReadString(ctx, n, path, &v)) return false;
  for (auto a : allowed) {
    if (v == a) {
      *out = v;
      return true;
    }
  }
  std::string list;
  for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  ctx.Error(n, path + ": '" + v + "' is not one of " + list);
  return false;
}

bool ReadDate(Ctx& ctx, const YAML::Node& n, const std::string& path,
              std::chrono::year_month_day* out) {
  std::string v;
  if (!ReadString(ctx, n, path, &v)) return false;
  auto d = ParseDate(v, path);
  if (!d) {
    ctx.Error(n, d.error().ToString());
    return false;
  }
  *out = *d;
  return true;
}

// An agreement with a partner: number, signed, expires, nondisclosure_clause
// (R-IX.3), a mapping.
void ReadAgreement(Ctx& ctx, const YAML::Node& node, const std::string& path, Agreement* out) {
  MapReader a(ctx, node, path);
  if (!a.ok()) return;
  ReadString(ctx, a.Get("number", true), path + ".number", &out->number);
  ReadDate(ctx, a.Get("signed", true), path + ".signed", &out->signed_on);
  if (const YAML::Node expires = a.Get("expires", false); expires.IsDefined()) {
    std::chrono::year_month_day day{};
    if (ReadDate(ctx, expires, path + ".expires", &day)) out->expires = day;
  }
  ReadBool(ctx, a.Get("nondisclosure_clause", true), path + ".nondisclosure_clause", &out->nondisclosure_clause);
  a.Done();
}

bool ReadPeriod(Ctx& ctx, const YAML::Node& n, const std::string& path, Period* out,
                bool allow_zero = false) {
  std::string v;
  if (!ReadString(ctx, n, path, &v)) return false;
  const char unit = v.back();
  const std::string digits = v.substr(0, v.size() - 1);
  bool ok = (unit == 'y' || unit == 'm' || unit == 'd') && !digits.empty() && digits.size() <= 5;
  for (char c : digits) ok = ok && c >= '0' && c <= '9';
  if (!ok || std::stoi(digits) < (allow_zero ? 0 : 1)) {
    ctx.Error(n, path + ": '" + v + "' is not a period (a " + (allow_zero ? "whole" : "positive") +
                     " number and y, m or d: 5y, 6m, 30d" + (allow_zero ? ", 0d" : "") + ")");
    return false;
  }
  *out = Period{std::stoi(digits), unit};
  return true;
}

bool ReadId(Ctx& ctx, const YAML::Node& n, const std::string& path, bool dotted, std::string* out) {
  if (!ReadString(ctx, n, path, out)) return false;
  bool ok = (*out)[0] >= 'a' && (*out)[0] <= 'z' && out->size() <= 64;
  for (char c : *out) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (dotted && c == '.'));
  }
  if (!ok) {
    ctx.Error(n, path + ": '" + *out + "' is not an id (lower-case letters, digits, '_'" +
                     (dotted ? ", '.'" : "") + "; at most 64)");
    return false;
  }
  return true;
}

Text ReadText(Ctx& ctx, const YAML::Node& n, const std::string& path) {
  Text text;
  if (!n.IsDefined()) return text;
  MapReader m(ctx, n, path);
  if (!m.ok()) return text;
  for (auto lang : kLanguages) {
    std::string v;
    const std::string key(lang);
    if (ReadString(ctx, m.Get(key, false), Join(path, lang), &v)) text[key] = v;
  }
  m.Done();
  if (!text.count("kk")) ctx.Error(n, path + ": has no Kazakh (kk) text");
  return text;
}

std::vector<Ref> ReadRefs(Ctx& ctx, const YAML::Node& n, const std::string& path, bool dotted) {
  std::vector<Ref> refs;
  if (!n.IsDefined()) return refs;
  if (!n.IsSequence()) {
    ctx.Error(n, path + ": must be a list");
    return refs;
  }
  for (size_t i = 0; i < n.size(); ++i) {
    std::string id;
    if (ReadId(ctx, n[i], path + "[" + std::to_string(i) + "]", dotted, &id)) {
      refs.push_back({id, ctx.Pos(n[i])});
    }
  }
  return refs;
}

// Calls `each(item_node, item_path)` for every entry of a top-level list.
template <typename F>
void ForEachItem(Ctx& ctx, const YAML::Node& n, const std::string& path, F each) {
  if (!n.IsDefined()) return;
  if (!n.IsSequence()) {
    ctx.Error(n, path + ": must be a list");
    return;
  }
  for (size_t i = 0; i < n.size(); ++i) each(n[i], path + "[" + std::to_string(i) + "]");
}

void ReadEdition(Ctx& ctx, const YAML::Node& n, const FileReader& read, LoadResult* result,
                 Policy* p) {
  MapReader m(ctx, n, "edition");
  if (!m.ok()) return;
  ReadInt(ctx, m.Get("number", true), "edition.number", &p->edition.number);
  if (p->edition.number < 0) ctx.Error(m.pos(), "edition.number: must be positive");
  p->edition.owner = ReadText(ctx, m.Get("owner", true), "edition.owner");
  {
    MapReader order(ctx, m.Get("approval_order", true), "edition.approval_order");
    if (order.ok()) {
      YAML::Node num = order.Get("number", true);
      if (num.IsDefined() && !num.IsNull()) {
        std::string v;
        if (ReadString(ctx, num, "edition.approval_order.number", &v)) p->edition.order_number = v;
      }
      ReadInt(ctx, order.Get("year", true), "edition.approval_order.year", &p->edition.order_year);
      order.Done();
    }
  }
  ReadEnum(ctx, m.Get("effective", true), "edition.effective",
           {"on_approval", "on_publication", "on_date"}, &p->edition.effective);
  // null (or absent): the source names no date; on_date needs one.
  if (const YAML::Node day = m.Get("effective_date", false); day.IsDefined() && !day.IsNull()) {
    std::chrono::year_month_day d{};
    if (ReadDate(ctx, day, "edition.effective_date", &d)) p->edition.effective_date = d;
  } else if (p->edition.effective == "on_date") {
    ctx.Error(m.pos(), "edition.effective_date: on_date needs the date");
  }
  // Each change from the edition before, with its reason (R-XI.1).
  ForEachItem(ctx, m.Get("changes", false), "edition.changes", [&](const YAML::Node& item, const std::string& path) {
    MapReader c(ctx, item, path);
    if (!c.ok()) return;
    std::string what, why;
    if (ReadString(ctx, c.Get("change", true), path + ".change", &what) &&
        ReadString(ctx, c.Get("reason", true), path + ".reason", &why) &&
        !p->edition.changes.emplace(what, why).second) {
      ctx.Error(item, path + ": '" + what + "' is given twice");
    }
    c.Done();
  });
  MapReader texts(ctx, m.Get("texts", true), "edition.texts");
  if (texts.ok()) {
    for (auto lang : kLanguages) {
      const std::string key(lang);
      YAML::Node t = texts.Get(key, key == "kk");
      std::string rel;
      if (!ReadString(ctx, t, "edition.texts." + key, &rel)) continue;
      p->edition.text_paths[key] = rel;
      auto content = ReadLimited(read, rel);
      if (!content) {
        ctx.Error(
            t, "edition.texts." + key + ": cannot read '" + rel + "': " + content.error().message);
        continue;
      }
      result->files[rel] = *content;
      p->edition.texts[key] = *content;
    }
    texts.Done();
  }
  m.Done();
}

void ReadController(Ctx& ctx, const YAML::Node& n, Policy* p) {
  MapReader m(ctx, n, "controller");
  if (!m.ok()) return;
  Controller& c = p->controller;
  c.name = ReadText(ctx, m.Get("name", true), "controller.name");
  ReadString(ctx, m.Get("brand", false), "controller.brand", &c.brand);
  c.address = ReadText(ctx, m.Get("address", true), "controller.address");
  ReadString(ctx, m.Get("postal_index", true), "controller.postal_index", &c.postal_index);
  ReadString(ctx, m.Get("country", true), "controller.country", &c.country);
  ReadString(ctx, m.Get("primary_storage_country", true), "controller.primary_storage_country",
             &c.primary_storage_country);
  // The operator's BIN and its responsible person are on every information
  // statement (R-IV.4); optional, since edition 1's text gives neither.
  const YAML::Node bin = m.Get("bin", false);
  if (ReadString(ctx, bin, "controller.bin", &c.bin)) {
    const bool digits = c.bin.size() == 12 && std::all_of(c.bin.begin(), c.bin.end(), [](char ch) {
                          return ch >= '0' && ch <= '9';
                        });
    if (!digits) ctx.Error(bin, "controller.bin: must be 12 digits");
  }
  ReadString(ctx, m.Get("dpo_contact", false), "controller.dpo_contact", &c.dpo_contact);
  m.Done();
}

void ReadLawFile(Ctx& ctx, const std::string& rel, const FileReader& read, const SourcePos& ref_pos,
                 LoadResult* result, Policy* p) {
  auto content = ReadLimited(read, rel);
  if (!content) {
    result->problems.push_back(
        {ref_pos, "law: cannot read '" + rel + "': " + content.error().message});
    return;
  }
  result->files[rel] = *content;
  std::optional<YAML::Node> root = ParseDocument(ctx, *content, "law");
  if (!root) return;
  MapReader m(ctx, *root, "law");
  if (!m.ok()) return;
  std::string format;
  if (ReadString(ctx, m.Get("format", true), "format", &format) && format != kLawFormat) {
    ctx.Error(m.pos(), "format: '" + format + "' is not " + std::string(kLawFormat));
  }
  ReadString(ctx, m.Get("jurisdiction", true), "jurisdiction", &p->jurisdiction);
  ForEachItem(ctx, m.Get("statutes", true), "statutes", [&](const YAML::Node& item,
                                                            const std::string& path) {
    MapReader s(ctx, item, path);
    if (!s.ok()) return;
    Statute st;
    st.pos = s.pos();
    ReadId(ctx, s.Get("id", true), path + ".id", false, &st.id);
    ReadPeriod(ctx, s.Get("period", true), path + ".period", &st.period);
    ReadString(ctx, s.Get("cite", true), path + ".cite", &st.cite);
    ReadEnum(ctx, s.Get("confidence", true), path + ".confidence", {"confirmed", "from_memory"},
             &st.confidence);
    s.Done();
    p->statutes.push_back(std::move(st));
  });
  m.Done();
}

void ReadLaw(const std::string& rel, const std::filesystem::path& display_dir,
             const FileReader& read, const SourcePos& ref_pos, LoadResult* result, Policy* p) {
  const std::string display = (display_dir / rel).lexically_normal().string();
  Ctx ctx(display, &result->problems);
  Guarded(ctx, [&] { ReadLawFile(ctx, rel, read, ref_pos, result, p); });
}

// Reads one calendar year file into `out`.
void ReadCalendarFile(Ctx& ctx, const std::string& content, CalendarYear* out) {
  std::optional<YAML::Node> root = ParseDocument(ctx, content, "calendar");
  if (!root) return;
  MapReader m(ctx, *root, "calendar");
  if (!m.ok()) return;
  std::string country;
  if (ReadString(ctx, m.Get("country", true), "country", &country)) {
    const bool code = country.size() == 2 && std::isupper(static_cast<unsigned char>(country[0])) &&
                      std::isupper(static_cast<unsigned char>(country[1]));
    if (!code) ctx.Error(m.Get("country", true), "country: '" + country + "' is not a two-letter country code");
    out->country = country;
  }
  ReadInt(ctx, m.Get("year", true), "year", &out->year);
  static constexpr std::string_view kWeekdays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                                    "thursday", "friday", "saturday"};
  ForEachItem(ctx, m.Get("weekend", true), "weekend", [&](const YAML::Node& item, const std::string& path) {
    std::string name;
    if (!ReadEnum(ctx, item, path, {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"},
                  &name)) {
      return;
    }
    for (unsigned i = 0; i < 7; ++i) {
      if (kWeekdays[i] == name) out->weekend.push_back(std::chrono::weekday(i));
    }
  });
  std::map<std::int64_t, std::string> seen;  // day -> where it was given
  auto read_day = [&](const YAML::Node& item, const std::string& path, bool off) {
    MapReader d(ctx, item, path);
    if (!d.ok()) return;
    CalendarDay day;
    const YAML::Node date = d.Get("date", true);
    const bool dated = ReadDate(ctx, date, path + ".date", &day.date);
    if (off) {
      ReadEnum(ctx, d.Get("kind", true), path + ".kind", {"holiday", "rollover", "transfer"}, &day.kind);
    } else {
      day.kind = "working";
    }
    ReadString(ctx, d.Get("name", true), path + ".name", &day.name);
    ReadBool(ctx, d.Get("confirmed", true), path + ".confirmed", &day.confirmed);
    std::string text;
    ReadString(ctx, d.Get("source", false), path + ".source", &text);
    ReadString(ctx, d.Get("note", false), path + ".note", &text);
    d.Done();
    if (!dated) return;
    if (out->year != 0 && static_cast<int>(day.date.year()) != out->year) {
      ctx.Error(date, path + ".date: " + FormatDate(day.date) + " is not in " + std::to_string(out->year));
      return;
    }
    const std::int64_t n = std::chrono::sys_days(day.date).time_since_epoch().count();
    if (auto [it, fresh] = seen.emplace(n, path); !fresh) {
      ctx.Error(date, path + ".date: " + FormatDate(day.date) + " is given already, at " + it->second);
      return;
    }
    if (!off) {
      const std::chrono::weekday w{std::chrono::sys_days(day.date)};
      if (std::find(out->weekend.begin(), out->weekend.end(), w) == out->weekend.end()) {
        ctx.Error(date, path + ".date: " + FormatDate(day.date) +
                            " is not a weekend day, so it is a working day already");
        return;
      }
    }
    (off ? out->days_off : out->working_days).push_back(std::move(day));
  };
  ForEachItem(ctx, m.Get("days_off", true), "days_off",
              [&](const YAML::Node& item, const std::string& path) { read_day(item, path, true); });
  ForEachItem(ctx, m.Get("working_days", false), "working_days",
              [&](const YAML::Node& item, const std::string& path) { read_day(item, path, false); });
  ForEachItem(ctx, m.Get("sources", false), "sources", [&](const YAML::Node& item, const std::string& path) {
    std::string text;
    ReadString(ctx, item, path, &text);
  });
  m.Done();
}

}  // namespace

CalendarLoadResult LoadCalendarYear(const std::string& content, const std::string& display_name) {
  CalendarLoadResult result;
  Ctx ctx(display_name, &result.problems);
  if (content.size() > kMaxPolicyFileBytes) {
    ctx.Error(SourcePos{display_name, 0, 0},
              "larger than " + std::to_string(kMaxPolicyFileBytes) + " bytes");
    return result;
  }
  CalendarYear year;
  Guarded(ctx, [&] { ReadCalendarFile(ctx, content, &year); });
  if (result.problems.empty()) result.year = std::move(year);
  return result;
}

namespace {

// Reads the policy file into `p`; false when there was no mapping to walk.
bool ReadPolicyFile(Ctx& ctx, const std::string& main_file,
                    const std::filesystem::path& display_dir, const FileReader& read,
                    LoadResult& result, Policy& p) {
  auto content = ReadLimited(read, main_file);
  if (!content) {
    ctx.Error(SourcePos{ctx.file(), 0, 0},
              "cannot read the policy file: " + content.error().message);
    return false;
  }
  result.files[main_file] = *content;
  std::optional<YAML::Node> root = ParseDocument(ctx, *content, "policy");
  if (!root) return false;

  MapReader top(ctx, *root, "policy");
  if (!top.ok()) return false;
  if (ReadString(ctx, top.Get("format", true), "format", &p.format) && p.format != kPolicyFormat) {
    ctx.Error(top.Get("format", true), "format: '" + p.format + "' is not " +
                                           std::string(kPolicyFormat));
  }
  YAML::Node law = top.Get("law", true);
  if (ReadString(ctx, law, "law", &p.law_path)) {
    ReadLaw(p.law_path, display_dir, read, ctx.Pos(law), &result, &p);
  }
  ReadEdition(ctx, top.Get("edition", true), read, &result, &p);
  ReadController(ctx, top.Get("controller", true), &p);

  ForEachItem(ctx, top.Get("channels", true), "channels", [&](const YAML::Node& item,
                                                              const std::string& path) {
    MapReader m(ctx, item, path);
    if (!m.ok()) return;
    Channel c;
    c.pos = m.pos();
    ReadId(ctx, m.Get("id", true), path + ".id", false, &c.id);
    ReadEnum(ctx, m.Get("evidence", true), path + ".evidence",
             {"e_document", "e_message", "signature", "call_recording", "paper_document"},
             &c.evidence);
    c.name = ReadText(ctx, m.Get("name", true), path + ".name");
    m.Done();
    p.channels.push_back(std::move(c));
  });

  ForEachItem(ctx, top.Get("contract_methods", true), "contract_methods",
              [&](const YAML::Node& item, const std::string& path) {
                MapReader m(ctx, item, path);
                if (!m.ok()) return;
                ContractMethod c;
                c.pos = m.pos();
                ReadId(ctx, m.Get("id", true), path + ".id", false, &c.id);
                c.name = ReadText(ctx, m.Get("name", true), path + ".name");
                m.Done();
                p.contract_methods.push_back(std::move(c));
              });

  ForEachItem(ctx, top.Get("purposes", true), "purposes", [&](const YAML::Node& item,
                                                              const std::string& path) {
    MapReader m(ctx, item, path);
    if (!m.ok()) return;
    Purpose pu;
    pu.pos = m.pos();
    ReadId(ctx, m.Get("id", true), path + ".id", false, &pu.id);
    ReadInt(ctx, m.Get("number", true), path + ".number", &pu.number);
    std::string basis;
    if (ReadEnum(ctx, m.Get("basis", true), path + ".basis", {"contract", "consent", "law"},
                 &basis)) {
      pu.basis = basis == "contract" ? LegalBasis::kContract
                 : basis == "consent" ? LegalBasis::kConsent
                                      : LegalBasis::kLaw;
    }
    ReadString(ctx, m.Get("statute", false), path + ".statute", &pu.statute);
    ReadBool(ctx, m.Get("while_obligation_open", false), path + ".while_obligation_open", &pu.while_obligation_open);
    ReadBool(ctx, m.Get("enrichment", false), path + ".enrichment", &pu.enrichment);
    pu.name = ReadText(ctx, m.Get("name", true), path + ".name");
    m.Done();
    p.purposes.push_back(std::move(pu));
  });

  ForEachItem(ctx, top.Get("categories", true), "categories", [&](const YAML::Node& item,
                                                                  const std::string& path) {
    MapReader m(ctx, item, path);
    if (!m.ok()) return;
    Category c;
    c.pos = m.pos();
    ReadId(ctx, m.Get("id", true), path + ".id", true, &c.id);
    std::string access;
    if (ReadEnum(ctx, m.Get("access", true), path + ".access", {"public", "restricted"}, &access)) {
      c.access = access == "public" ? AccessClass::kPublic : AccessClass::kRestricted;
    }
    YAML::Node value = m.Get("value", false);
    std::string value_name;
    if (ReadEnum(ctx, value, path + ".value", {"text", "iin", "phone", "name", "email", "date", "number"},
                 &value_name)) {
      ParseValueType(value_name, &c.value);
    }
    c.name = ReadText(ctx, m.Get("name", true), path + ".name");
    c.purposes = ReadRefs(ctx, m.Get("purposes", true), path + ".purposes", false);
    m.Done();
    p.categories.push_back(std::move(c));
  });

  ForEachItem(ctx, top.Get("services", true), "services", [&](const YAML::Node& item,
                                                              const std::string& path) {
    MapReader m(ctx, item, path);
    if (!m.ok()) return;
    Service s;
    s.pos = m.pos();
    ReadId(ctx, m.Get("id", true), path + ".id", false, &s.id);
    std::string kind;
    if (ReadEnum(ctx, m.Get("kind", true), path + ".kind", {"base", "additional"}, &kind)) {
      s.kind = kind == "base" ? ServiceKind::kBase : ServiceKind::kAdditional;
    }
    s.name = ReadText(ctx, m.Get("name", true), path + ".name");
    s.join_methods = ReadRefs(ctx, m.Get("join_methods", true), path + ".join_methods", false);
    s.purposes = ReadRefs(ctx, m.Get("purposes", true), path + ".purposes", false);
    s.categories = ReadRefs(ctx, m.Get("categories", true), path + ".categories", true);
    YAML::Node re = m.Get("reenable", false);
    if (re.IsDefined()) {
      s.has_reenable = true;
      MapReader r(ctx, re, path + ".reenable");
      if (r.ok()) {
        ReadBool(ctx, r.Get("written_application", true), path + ".reenable.written_application",
                 &s.reenable_written_application);
        ReadBool(ctx, r.Get("new_consent", true), path + ".reenable.new_consent",
                 &s.reenable_new_consent);
        r.Done();
      }
    }
    m.Done();
    p.services.push_back(std::move(s));
  });

  ForEachItem(ctx, top.Get("retention", true), "retention", [&](const YAML::Node& item,
                                                                const std::string& path) {
    MapReader m(ctx, item, path);
    if (!m.ok()) return;
    RetentionRule r;
    r.pos = m.pos();
    // A rule is about a data category or about a record qorgau keeps.
    YAML::Node cat = m.Get("category", false);
    YAML::Node record = m.Get("record", false);
    if (cat.IsDefined() == record.IsDefined()) {
      ctx.Error(item, path + ": give either 'category' (a data category) or 'record' (" +
                          [] {
                            std::string list;
                            for (const RecordKind& k : kRecordKinds) list += (list.empty() ? "" : ", ") + std::string(k.id);
                            return list;
                          }() + "), not " + (cat.IsDefined() ? "both" : "neither"));
    }
    // Set only when valid: a refused id is reported here, once, and the
    // validator then has no reference without a position to report again.
    if (std::string id; cat.IsDefined() && ReadId(ctx, cat, path + ".category", true, &id)) {
      r.category = {id, ctx.Pos(cat)};
    }
    if (record.IsDefined()) ReadId(ctx, record, path + ".record", false, &r.record);
    YAML::Node purpose = m.Get("purpose", false);
    if (std::string id; purpose.IsDefined() && ReadId(ctx, purpose, path + ".purpose", false, &id)) {
      r.purpose = Ref{id, ctx.Pos(purpose)};
    }
    YAML::Node evidence = m.Get("evidence", false);
    if (evidence.IsDefined()) {
      ReadEnum(ctx, evidence, path + ".evidence",
               {"e_document", "e_message", "signature", "call_recording", "paper_document"}, &r.evidence);
    }
    YAML::Node period = m.Get("period", true);
    ReadPeriod(ctx, period, path + ".period", &r.period, /*allow_zero=*/true);
    r.period_pos = ctx.Pos(period);
    // Any id here: the validator names the start events qorgau records.
    YAML::Node from = m.Get("from", true);
    ReadId(ctx, from, path + ".from", false, &r.from);
    r.from_pos = ctx.Pos(from);
    YAML::Node min = m.Get("minimum", false);
    Ref min_ref;
    if (ReadId(ctx, min, path + ".minimum", false, &min_ref.id)) {
      min_ref.pos = ctx.Pos(min);
      r.minimum = min_ref;
    }
    ReadString(ctx, m.Get("ground", true), path + ".ground", &r.ground);
    m.Done();
    p.retention.push_back(std::move(r));
  });

  ForEachItem(ctx, top.Get("recipients", false), "recipients", [&](const YAML::Node& item,
                                                                   const std::string& path) {
    MapReader m(ctx, item, path);
    if (!m.ok()) return;
    Recipient r;
    r.pos = m.pos();
    ReadId(ctx, m.Get("id", true), path + ".id", false, &r.id);
    r.name = ReadText(ctx, m.Get("name", true), path + ".name");
    YAML::Node country = m.Get("country", true);
    if (ReadString(ctx, country, path + ".country", &r.country) && !IsCountryCode(r.country)) {
      ctx.Error(country, path + ".country: must be an ISO 3166-1 alpha-2 code (KZ, DE, ...)");
    }
    // A Kazakh partner has its BIN; a foreign one its registration abroad.
    if (const YAML::Node bin = m.Get("bin", false); bin.IsDefined() && ReadString(ctx, bin, path + ".bin", &r.bin)) {
      if (r.bin.size() != 12 || r.bin.find_first_not_of("0123456789") != std::string::npos) {
        ctx.Error(bin, path + ".bin: must be 12 digits (a business identification number)");
      }
    }
    ReadString(ctx, m.Get("registration", false), path + ".registration", &r.registration);
    // The agreement: a mapping (number, signed, expires, nondisclosure_clause),
    // or, as edition 1 wrote it, its number with `nda_signed`, the day the
    // non-disclosure agreement was signed (the clause, with no expiry).
    const YAML::Node agreement = m.Get("agreement", true);
    if (agreement.IsDefined() && agreement.IsMap()) {
      ReadAgreement(ctx, agreement, path + ".agreement", &r.agreement);
    } else if (ReadString(ctx, agreement, path + ".agreement", &r.agreement.number)) {
      r.agreement.nondisclosure_clause =
          ReadDate(ctx, m.Get("nda_signed", true), path + ".nda_signed", &r.agreement.signed_on);
    }
    r.purposes = ReadRefs(ctx, m.Get("purposes", true), path + ".purposes", false);
    r.categories = ReadRefs(ctx, m.Get("categories", true), path + ".categories", true);
    m.Done();
    p.recipients.push_back(std::move(r));
  });

  ForEachItem(ctx, top.Get("sources", false), "sources", [&](const YAML::Node& item, const std::string& path) {
    MapReader m(ctx, item, path);
    if (!m.ok()) return;
    DataSource src;
    src.pos = m.pos();
    ReadId(ctx, m.Get("id", true), path + ".id", false, &src.id);
    src.name = ReadText(ctx, m.Get("name", true), path + ".name");
    std::string kind;
    const YAML::Node kind_node = m.Get("kind", true);
    if (ReadString(ctx, kind_node, path + ".kind", &kind)) {
      if (kind == "public_source") {
        src.kind = SourceKind::kPublic;
      } else if (kind == "third_party") {
        src.kind = SourceKind::kThirdParty;
      } else {
        ctx.Error(kind_node, path + ".kind: must be public_source or third_party (R-X.1)");
      }
    }
    ReadString(ctx, m.Get("bin", false), path + ".bin", &src.bin);
    ReadString(ctx, m.Get("registration", false), path + ".registration", &src.registration);
    if (const YAML::Node country = m.Get("country", false); country.IsDefined()) {
      if (ReadString(ctx, country, path + ".country", &src.country) && !IsCountryCode(src.country)) {
        ctx.Error(country, path + ".country: must be an ISO 3166-1 alpha-2 code (KZ, DE, ...)");
      }
    }
    if (const YAML::Node agreement = m.Get("agreement", false); agreement.IsDefined()) {
      Agreement a;
      ReadAgreement(ctx, agreement, path + ".agreement", &a);
      src.agreement = a;
    }
    src.purposes = ReadRefs(ctx, m.Get("purposes", true), path + ".purposes", false);
    src.categories = ReadRefs(ctx, m.Get("categories", true), path + ".categories", true);
    m.Done();
    p.sources.push_back(std::move(src));
  });

  if (const YAML::Node transfers = top.Get("transfers", false); transfers.IsDefined()) {
    MapReader m(ctx, transfers, "transfers");
    if (m.ok()) {
      const YAML::Node list = m.Get("adequate_countries", true);
      if (list.IsDefined() && list.IsSequence()) {
        for (size_t i = 0; i < list.size(); ++i) {
          std::string c;
          const std::string item = "transfers.adequate_countries[" + std::to_string(i) + "]";
          if (!ReadString(ctx, list[i], item, &c)) continue;
          if (!IsCountryCode(c)) {
            ctx.Error(list[i], item + ": must be an ISO 3166-1 alpha-2 code (KZ, DE, ...)");
          } else {
            p.transfers.adequate_countries.push_back(c);
          }
        }
      }
      m.Done();
    }
  }

  if (const YAML::Node aggregates = top.Get("aggregates", false); aggregates.IsDefined()) {
    MapReader m(ctx, aggregates, "aggregates");
    if (m.ok()) {
      AggregateRules& a = p.aggregates;
      if (const YAML::Node k = m.Get("k", false); ReadInt(ctx, k, "aggregates.k", &a.k) && (a.k < 2 || a.k > 1000)) {
        ctx.Error(k, "aggregates.k: must be between 2 and 1000");
      }
      if (const YAML::Node l = m.Get("l", false); ReadInt(ctx, l, "aggregates.l", &a.l) && (a.l < 1 || a.l > 100)) {
        ctx.Error(l, "aggregates.l: must be between 1 and 100");
      }
      if (const YAML::Node s = m.Get("max_suppressed_percent", false);
          ReadInt(ctx, s, "aggregates.max_suppressed_percent", &a.max_suppressed_percent) &&
          (a.max_suppressed_percent < 0 || a.max_suppressed_percent > 50)) {
        ctx.Error(s, "aggregates.max_suppressed_percent: must be between 0 and 50");
      }
      if (const YAML::Node b = m.Get("epsilon_budget", false); b.IsDefined()) {
        double v = 0;
        bool ok = b.IsScalar();
        try {
          if (ok) v = b.as<double>();
        } catch (const YAML::Exception&) {
          ok = false;
        }
        if (!ok || !(v > 0) || v > 100) {
          ctx.Error(b, "aggregates.epsilon_budget: must be a number above 0 and at most 100");
        } else {
          a.epsilon_budget = v;
        }
      }
      m.Done();
    }
  }

  {
    MapReader m(ctx, top.Get("withdrawal", true), "withdrawal");
    if (m.ok()) {
      WithdrawalRules& w = p.withdrawal;
      w.channels = ReadRefs(ctx, m.Get("channels", true), "withdrawal.channels", false);
      ReadBool(ctx, m.Get("block_if_unfulfilled_obligation", true),
               "withdrawal.block_if_unfulfilled_obligation", &w.block_if_unfulfilled_obligation);
      ReadBool(ctx, m.Get("block_if_legal_hold", true), "withdrawal.block_if_legal_hold",
               &w.block_if_legal_hold);
      w.warning = ReadText(ctx, m.Get("warning", true), "withdrawal.warning");
      w.obligation_blocks = ReadRefs(ctx, m.Get("obligation_blocks", false), "withdrawal.obligation_blocks", false);
      if (const YAML::Node roles = m.Get("legal_hold_roles", false); roles.IsDefined()) {
        std::vector<ActorRole> read;
        for (const Ref& r : ReadRefs(ctx, roles, "withdrawal.legal_hold_roles", false)) {
          ActorRole role{};
          if (!ParseActorRole(r.id, &role)) {
            ctx.Error(r.pos, "withdrawal.legal_hold_roles: '" + r.id +
                                 "' is not a role (admin, employee, system, dpo)");
          } else if (std::find(read.begin(), read.end(), role) == read.end()) {
            read.push_back(role);
          }
        }
        if (roles.IsSequence() && roles.size() == 0) {
          ctx.Error(roles, "withdrawal.legal_hold_roles: must name at least one role");
        }
        if (!read.empty()) w.legal_hold_roles = std::move(read);
      }
      m.Done();
    }
  }

  auto read_named = [&](const char* key, std::vector<NamedItem>* out) {
    ForEachItem(ctx, top.Get(key, true), key, [&](const YAML::Node& item, const std::string& path) {
      MapReader m(ctx, item, path);
      if (!m.ok()) return;
      NamedItem it;
      it.pos = m.pos();
      ReadId(ctx, m.Get("id", true), path + ".id", false, &it.id);
      it.name = ReadText(ctx, m.Get("name", true), path + ".name");
      if (out == &p.rights) {
        const YAML::Node days = m.Get("deadline_working_days", false);
        int n = 0;
        if (ReadInt(ctx, days, path + ".deadline_working_days", &n)) {
          if (n < 1 || n > 60) {
            ctx.Error(days, path + ".deadline_working_days: must be 1 to 60 working days");
          } else {
            p.right_deadlines[it.id] = n;
          }
        }
      }
      m.Done();
      out->push_back(std::move(it));
    });
  };
  read_named("rights", &p.rights);
  read_named("security_measures", &p.security_measures);
  top.Done();
  return true;
}

}  // namespace

std::string Diagnostic::ToString() const {
  if (pos.line == 0) return pos.file + ": " + message;  // a whole-file problem
  return pos.file + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": " +
         message;
}

LoadResult LoadPolicy(const std::string& main_file, const std::filesystem::path& display_dir,
                      const FileReader& read) {
  LoadResult result;
  Ctx ctx((display_dir / main_file).lexically_normal().string(), &result.problems);
  Guarded(ctx, [&] {
    Policy p;
    // A walk cut short leaves the policy half-read; validating it would add
    // only problems that are not in the file.
    if (!ReadPolicyFile(ctx, main_file, display_dir, read, result, p)) return;
    for (auto& d : ValidatePolicy(p)) result.problems.push_back(std::move(d));
    if (result.problems.empty()) result.policy = std::move(p);
  });
  return result;
}

LoadResult LoadPolicyFile(const std::filesystem::path& path) {
  const std::filesystem::path dir = path.parent_path();
  FileReader read = [&dir](const std::string& rel) { return ReadRegularFile(dir / rel); };
  return LoadPolicy(path.filename().string(), dir, read);
}

LoadResult LoadPolicyBundle(const std::map<std::string, std::string>& files,
                            const std::string& main_file) {
  FileReader read = [&files](const std::string& rel) -> Result<std::string> {
    auto it = files.find(rel);
    if (it == files.end()) return Fail(ErrorCode::kNotFound, rel, "not in the edition's files");
    // Checked before the copy, so an oversized entry is never duplicated.
    if (it->second.size() > kMaxPolicyFileBytes) return Fail(ErrorCode::kIo, rel, TooLarge());
    return it->second;
  };
  return LoadPolicy(main_file, "edition", read);
}

}  // namespace qorgau::policy
