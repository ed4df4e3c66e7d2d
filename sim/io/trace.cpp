// Request traces (Azure LLM inference trace format) and the calibration of a
// request-level class from one.
#include "capsim/io/trace.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>
#include <sstream>

#include "capsim/error.hpp"
#include "text_util.hpp"

namespace capsim::io {

namespace {

constexpr std::size_t kMaxDiagnostics = 20;
constexpr double kMaxTokens = 1e9;
const char* const kColumns[] = {"TIMESTAMP", "ContextTokens", "GeneratedTokens"};

// "%.10g": the precision of the written class.
std::string ten_digits(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.10g", x);
  return buffer;
}

std::string in_quotes(const std::string& s) {
  constexpr std::size_t kShown = 40;
  return "\"" + (s.size() > kShown ? s.substr(0, kShown) + "..." : s) + "\"";
}

// Digits at s[pos, pos + n) as a number, or nullopt.
std::optional<int> digits(const std::string& s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    value = value * 10 + (s[i] - '0');
  }
  return value;
}

// Nanoseconds since 1970-01-01 of "YYYY-MM-DD HH:MM:SS[.fffffffff]".
std::optional<std::int64_t> parse_timestamp(const std::string& s) {
  const auto year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
  const auto hour = digits(s, 11, 2), minute = digits(s, 14, 2), second = digits(s, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second || s[4] != '-' || s[7] != '-' ||
      (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(*year),
                                         std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  std::int64_t nanos = 0;
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    std::int64_t scale = 100000000;
    for (++pos; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos, scale /= 10) {
      if (scale == 0) return std::nullopt;  // more than 9 digits
      nanos += (s[pos] - '0') * scale;
    }
    if (scale == 100000000) return std::nullopt;  // a point without digits
  }
  if (pos < s.size() && s[pos] == 'Z') ++pos;
  if (pos != s.size()) return std::nullopt;
  const std::int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  return ((days * 24 + *hour) * 60 + *minute) * 60 * std::int64_t{1000000000} +
         *second * std::int64_t{1000000000} + nanos;
}

std::optional<double> parse_tokens(const std::string& s) {
  double x = 0.0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
  if (ec != std::errc() || end != s.data() + s.size() || !(x >= 0.0) || x > kMaxTokens ||
      x != std::floor(x))
    return std::nullopt;
  return x;
}

struct Field {
  std::string text;
  int column = 1;  // 1-based character column of its first character
};

std::vector<Field> split(const std::string& line) {
  std::vector<Field> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    std::string text = line.substr(start, comma == std::string::npos ? comma : comma - start);
    int column = static_cast<int>(start) + 1;
    // Surrounding blanks and double quotes are not part of the value.
    const std::size_t first = text.find_first_not_of(" \t");
    const std::size_t last = text.find_last_not_of(" \t");
    if (first == std::string::npos) {
      text.clear();
    } else {
      column += static_cast<int>(first);
      text = text.substr(first, last - first + 1);
      if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
        text = text.substr(1, text.size() - 2);
        ++column;
      }
    }
    fields.push_back({std::move(text), column});
    if (comma == std::string::npos) return fields;
    start = comma + 1;
  }
}

class Problems {
 public:
  explicit Problems(std::string file) : file_(std::move(file)) {}
  void add(int line, int column, const std::string& what, std::string message) {
    if (list_.size() < kMaxDiagnostics)
      list_.push_back(Diagnostic{SourceMark{file_, line, column}, what, std::move(message)});
    else
      ++more_;
  }
  void throw_if_any() {
    if (list_.empty()) return;
    if (more_ > 0)
      list_.push_back(Diagnostic{SourceMark{file_, 0, 0}, "",
                                 std::to_string(more_) + " more problems not shown"});
    throw InputError(std::move(list_));
  }

 private:
  std::string file_;
  std::vector<Diagnostic> list_;
  std::size_t more_ = 0;
};

double mean_of(const std::vector<double>& x) {
  return std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
}

// Sample standard deviation (divisor size - 1) over the mean.
double cv_of(const std::vector<double>& x) {
  const double mean = mean_of(x);
  double ss = 0.0;
  for (double v : x) ss += (v - mean) * (v - mean);
  return std::sqrt(ss / static_cast<double>(x.size() - 1)) / mean;
}

}  // namespace

Trace parse_trace(const std::string& text, const std::string& name) {
  Trace trace;
  trace.file = name;
  Problems problems(name);
  std::istringstream in(text);
  std::string line;
  int line_number = 0;
  std::vector<int> index;  // field index of each of kColumns
  std::size_t fields_per_row = 0;
  std::vector<std::int64_t> nanos;
  std::vector<std::string> stamps;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // BOM
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::vector<Field> fields = split(line);
    if (index.empty()) {
      fields_per_row = fields.size();
      for (const char* column : kColumns) {
        const auto it = std::find_if(fields.begin(), fields.end(),
                                     [&](const Field& f) { return f.text == column; });
        if (it == fields.end()) {
          problems.add(line_number, 1, "header",
                       std::string("missing column ") + column + " (got " + in_quotes(line) +
                           ", expected a header naming TIMESTAMP, ContextTokens and "
                           "GeneratedTokens)");
        } else {
          index.push_back(static_cast<int>(it - fields.begin()));
        }
      }
      problems.throw_if_any();
      continue;
    }
    if (fields.size() != fields_per_row) {
      const int column = fields.size() > fields_per_row ? fields[fields_per_row].column
                                                        : static_cast<int>(line.size()) + 1;
      problems.add(line_number, column, "row",
                   "wrong number of fields (got " + std::to_string(fields.size()) + ", expected " +
                       std::to_string(fields_per_row) + " as in the header)");
      continue;
    }
    const Field& stamp = fields[static_cast<std::size_t>(index[0])];
    const auto t = parse_timestamp(stamp.text);
    if (!t)
      problems.add(line_number, stamp.column, kColumns[0],
                   "not a timestamp (got " + in_quotes(stamp.text) +
                       ", expected YYYY-MM-DD HH:MM:SS with an optional fraction of a second)");
    double tokens[2] = {0.0, 0.0};
    bool ok = t.has_value();
    for (int j = 0; j < 2; ++j) {
      const Field& f = fields[static_cast<std::size_t>(index[static_cast<std::size_t>(j + 1)])];
      const auto x = parse_tokens(f.text);
      if (x) {
        tokens[j] = *x;
      } else {
        ok = false;
        problems.add(line_number, f.column, kColumns[j + 1],
                     "not a token count (got " + in_quotes(f.text) +
                         ", expected a whole number in [0, 1e9])");
      }
    }
    if (!ok) continue;
    nanos.push_back(*t);
    stamps.push_back(stamp.text);
    trace.input_tokens.push_back(tokens[0]);
    trace.output_tokens.push_back(tokens[1]);
  }
  if (index.empty())
    problems.add(line_number + 1, 1, "header",
                 "no header (got an empty file, expected a header naming TIMESTAMP, "
                 "ContextTokens and GeneratedTokens)");
  problems.throw_if_any();
  if (nanos.size() < 3)
    throw InputError({Diagnostic{
        SourceMark{name, line_number, 1}, "rows",
        "too few requests (got " + std::to_string(nanos.size()) + ", expected at least 3)"}});

  std::vector<std::size_t> order(nanos.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return nanos[a] < nanos[b]; });
  const std::int64_t first = nanos[order.front()];
  if (nanos[order.back()] == first)
    throw InputError(
        {Diagnostic{SourceMark{name, line_number, 1}, "TIMESTAMP",
                    "every request has the same time (got " + in_quotes(stamps[order.front()]) +
                        ", expected a trace that lasts some time)"}});
  Trace sorted;
  sorted.file = name;
  for (std::size_t i : order) {
    sorted.arrival_s.push_back(static_cast<double>(nanos[i] - first) / 1e9);
    sorted.input_tokens.push_back(trace.input_tokens[i]);
    sorted.output_tokens.push_back(trace.output_tokens[i]);
  }
  sorted.first_timestamp = stamps[order.front()];
  sorted.last_timestamp = stamps[order.back()];
  return sorted;
}

Trace read_trace(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw InputError(
        {Diagnostic{SourceMark{path, 0, 0}, "",
                    std::filesystem::exists(path, ec) ? "not a regular file (expected a CSV trace)"
                                                      : "no such file (expected a CSV trace)"}});
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in && !in.eof())
    throw InputError({Diagnostic{SourceMark{path, 0, 0}, "", "cannot be read"}});
  return parse_trace(text.str(), path);
}

Calibration calibrate(const Trace& trace, const CalibrationOptions& options) {
  Calibration c;
  c.options = options;
  const std::vector<double>& t = trace.arrival_s;
  const std::size_t n = t.size();
  c.requests = static_cast<std::int64_t>(n);
  c.duration_s = t.back() - t.front();
  if (!(options.window_s > 0.0 && options.window_s <= c.duration_s))
    throw InputError("calibrate: --window must be longer than 0 and at most the trace's " +
                     ten_digits(c.duration_s) + " s (got " + ten_digits(options.window_s) + " s)");
  c.rate_per_s = static_cast<double>(n) / c.duration_s;
  c.input_tokens = mean_of(trace.input_tokens);
  c.output_tokens = mean_of(trace.output_tokens);

  std::vector<double> gaps(n - 1);
  for (std::size_t i = 0; i + 1 < n; ++i) gaps[i] = t[i + 1] - t[i];
  c.interarrival_cv = cv_of(gaps);
  c.poisson = std::fabs(c.interarrival_cv - 1.0) <= options.poisson_tolerance;

  std::vector<double> service(n);
  for (std::size_t i = 0; i < n; ++i)
    service[i] = trace.input_tokens[i] / options.input_tokens_per_s_per_h100e +
                 trace.output_tokens[i] / options.output_tokens_per_s_per_h100e;
  c.service_s = mean_of(service);
  c.service_cv = cv_of(service);

  // Busiest window: [t_i, t_i + w) for each request i whose window ends
  // inside the trace; prefix sums of the service times give each sum.
  std::vector<double> prefix(n + 1, 0.0);
  for (std::size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + service[i];
  c.load_h100e = prefix[n] / c.duration_s;
  const double w = options.window_s;
  double busiest = -1.0;
  for (std::size_t i = 0, j = 0; i < n && t[i] + w <= t.back(); ++i) {
    j = std::max(j, i);
    while (j < n && t[j] < t[i] + w) ++j;
    const double sum = prefix[j] - prefix[i];
    if (sum > busiest) {
      busiest = sum;
      c.busiest_start_s = t[i];
    }
  }
  c.window_s = w;
  c.peak_to_mean = busiest / w / c.load_h100e;
  return c;
}

std::string class_yaml(const Trace& trace, const Calibration& c, const ClassYamlOptions& o) {
  const double k = 0.5 * (c.interarrival_cv * c.interarrival_cv + c.service_cv * c.service_cv);
  const double peak = std::clamp(c.peak_to_mean, 1.0, 10.0);
  std::ostringstream y;
  y << "# A request-level inference class (SPEC 3.3) written by `capsim calibrate` from\n"
    << "# " << std::filesystem::path(trace.file).filename().string() << ": " << c.requests
    << " requests from " << trace.first_timestamp << " to " << trace.last_timestamp << " ("
    << ten_digits(c.duration_s) << " s).\n";
  for (const auto& note : o.notes) y << "# " << note << "\n";
  y << "classes:\n"
    << "  " << o.class_name << ":\n"
    << "    kind: inference\n"
    << "    base_demand_h100e: ~   # sized from requests (also drops an inherited value)\n"
    << "    requests:\n"
    << "      rate_per_s: " << ten_digits(c.rate_per_s) << "   # " << c.requests << " requests / "
    << ten_digits(c.duration_s) << " s\n"
    << "      input_tokens: " << ten_digits(c.input_tokens) << "   # mean ContextTokens\n"
    << "      output_tokens: " << ten_digits(c.output_tokens) << "   # mean GeneratedTokens\n"
    << "      input_tokens_per_s_per_h100e: " << ten_digits(c.options.input_tokens_per_s_per_h100e)
    << "   # --input-tps\n"
    << "      output_tokens_per_s_per_h100e: "
    << ten_digits(c.options.output_tokens_per_s_per_h100e) << "   # --output-tps\n";
  if (o.percentile)
    y << "      wait_percentile: " << ten_digits(o.wait_percentile) << "   # --wait-percentile\n";
  else
    y << "      max_wait_probability: " << ten_digits(o.max_wait_probability)
      << "   # --max-wait-probability\n";
  y << "      max_wait_s: " << ten_digits(o.max_wait_s) << "   # --max-wait-s\n";
  const std::string cv = "inter-arrival CV " + ten_digits(c.interarrival_cv) +
                         (c.poisson ? ", near" : ", far from") + " Poisson's 1";
  if (o.allen_cunneen)
    y << "      queue: {model: allen_cunneen, arrival_cv: " << ten_digits(c.interarrival_cv)
      << ", service_cv: " << ten_digits(c.service_cv) << "}   # " << cv << "; waits x "
      << ten_digits(k) << "\n";
  else
    y << "      queue: {model: erlang_c}   # " << cv << "\n";
  y << "    peak_factor: " << ten_digits(peak) << "   # the busiest " << o.window_text
    << " of the load over its mean";
  if (peak != c.peak_to_mean) y << " (" << ten_digits(c.peak_to_mean) << ", kept in [1, 10])";
  y << "\n";
  return y.str();
}

void write_text(const std::string& path, const std::string& text) {
  detail::TextOutput out(path);
  out.out << text;
  out.commit();
}

}  // namespace capsim::io
