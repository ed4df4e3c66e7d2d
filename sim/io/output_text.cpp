// Key figures as a readable table, CSV and JSON.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "capsim/error.hpp"
#include "capsim/io/output.hpp"

namespace capsim::io {

namespace {

// One row of output: a key figure, or one class of a per-class key figure.
struct Row {
  std::string name;  // e.g. "unserved_fraction[chat]"
  const KeyFigureInfo* info = nullptr;
  std::string class_name;  // empty unless per class
  std::array<double, 4> stats{};
};

std::vector<Row> rows_of(const RunResult& result) {
  const Layout& layout = result.layout;
  std::vector<Row> rows;
  for (const KeyFigureInfo& info : layout.key_figures) {
    const bool per_class = !info.dims.empty();
    for (Eigen::Index i = 0; i < info.width; ++i) {
      Row row;
      row.info = &info;
      row.name = info.name;
      if (per_class) {
        row.class_name = layout.classes.at(static_cast<std::size_t>(i));
        row.name += "[" + row.class_name + "]";
      }
      for (Eigen::Index j = 0; j < 4; ++j)
        row.stats[static_cast<std::size_t>(j)] = result.key_figure_stats(j, info.offset + i);
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

std::string full_precision(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

// Groups the integer digits of a "%.Nf" rendering in thousands: 2903145.2 ->
// "2,903,145.2".
std::string with_thousands(double x, int decimals) {
  char buf[400];  // "%.f" of the largest double has 309 digits
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  const std::string digits = buf;
  const std::size_t sign = (digits[0] == '-') ? 1 : 0;
  const std::size_t end = std::min(digits.find('.'), digits.size());
  std::string text = digits.substr(0, sign);
  for (std::size_t i = sign; i < end; ++i) {
    if (i > sign && (end - i) % 3 == 0) text += ',';
    text += digits[i];
  }
  return text + digits.substr(end);
}

// Four significant digits for small magnitudes, whole numbers with thousands
// separators for large ones; exponent notation only at the extremes.
std::string readable(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  const double a = std::fabs(x);
  char buf[64];
  if (a == 0.0) return "0";
  if (a >= 1e15 || a < 1e-3) {
    std::snprintf(buf, sizeof buf, "%.3e", x);
    return buf;
  }
  if (a >= 1000.0 || x == std::trunc(x)) return with_thousands(x, 0);
  const int decimals = std::max(0, 3 - static_cast<int>(std::floor(std::log10(a))));
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}

// How a unit is shown in the table: money in millions, fractions in percent.
struct Display {
  std::string unit;
  double scale = 1.0;
  int decimals = -1;  // -1: readable()
};

Display display_for(const std::string& unit) {
  if (unit == "USD") return {"M USD", 1e-6, 1};
  if (unit == "fraction" || unit == "0/1") return {"%", 100.0, 2};
  return {unit, 1.0, -1};
}

std::string shown(double x, const Display& d) {
  const double v = x * d.scale;
  if (d.decimals < 0 || !(std::fabs(v) < 1e15)) return readable(v);
  return with_thousands(v, d.decimals);
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

// JSON has no NaN or infinity; null marks a value that is not a number.
std::string json_number(double x) {
  return std::isfinite(x) ? full_precision(x) : "null";
}

// RFC 4180: quote a field that holds a separator, quote or line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (const char ch : s) out += (ch == '"') ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

// A text output written under a temporary name beside `path` and renamed to
// it by commit(), so a failed write (a full disk) never leaves a partial
// file. A target that exists and is not a regular file (a pipe, a device
// such as /dev/stdout) is written in place.
class TextOutput {
 public:
  explicit TextOutput(std::string path) : path_(std::move(path)) {
    struct stat info {};
    const bool special = ::stat(path_.c_str(), &info) == 0 && !S_ISREG(info.st_mode);
    write_path_ = special ? path_ : path_ + ".tmp-" + std::to_string(::getpid());
    errno = 0;
    out.open(write_path_, std::ios::binary | std::ios::trunc);
    if (!out) {
      const int error = errno;
      throw RuntimeError("cannot write " + path_ + ": " +
                         (error != 0 ? std::strerror(error) : "cannot open file"));
    }
  }
  ~TextOutput() {
    if (committed_ || write_path_ == path_) return;
    out.close();
    std::remove(write_path_.c_str());
  }
  TextOutput(const TextOutput&) = delete;
  TextOutput& operator=(const TextOutput&) = delete;

  void commit() {
    out.flush();
    const bool ok = static_cast<bool>(out);
    out.close();
    if (!ok || out.fail()) throw RuntimeError("cannot write " + path_ + ": write failed");
    if (write_path_ != path_ && std::rename(write_path_.c_str(), path_.c_str()) != 0)
      throw RuntimeError("cannot write " + path_ + ": " + std::strerror(errno));
    committed_ = true;
  }

  std::ofstream out;

 private:
  std::string path_, write_path_;
  bool committed_ = false;
};

}  // namespace

void print_key_figures(std::ostream& out, const ScenarioSpec& spec, const RunResult& result) {
  const Layout& layout = result.layout;
  out << "scenario " << spec.name << ": " << result.paths << " paths, seed " << result.seed << ", "
      << layout.steps << " steps of " << readable(layout.step_hours) << " h";
  if (result.wall_seconds > 0.0) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.2f", result.wall_seconds);
    out << ", run time " << seconds << " s";
  }
  out << "\n\n";

  struct Line {
    std::string name, unit;
    std::array<std::string, 4> values;
  };
  std::vector<Line> lines;
  lines.push_back({"key figure", "unit", {"mean", "p05", "p50", "p95"}});
  for (const Row& row : rows_of(result)) {
    const Display d = display_for(row.info->unit);
    Line line{row.name, d.unit, {}};
    for (std::size_t j = 0; j < 4; ++j) line.values[j] = shown(row.stats[j], d);
    lines.push_back(std::move(line));
  }

  std::size_t name_width = 0, unit_width = 0, value_width = 0;
  for (const Line& line : lines) {
    name_width = std::max(name_width, line.name.size());
    unit_width = std::max(unit_width, line.unit.size());
    for (const auto& v : line.values) value_width = std::max(value_width, v.size());
  }
  auto pad_right = [](const std::string& s, std::size_t w) {
    return s + std::string(w - s.size(), ' ');
  };
  auto pad_left = [](const std::string& s, std::size_t w) {
    return std::string(w - s.size(), ' ') + s;
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Line& line = lines[i];
    out << pad_right(line.name, name_width) << "  " << pad_right(line.unit, unit_width);
    for (const auto& v : line.values) out << "  " << pad_left(v, value_width);
    out << '\n';
    if (i == 0) {
      out << std::string(name_width + 2 + unit_width + 4 * (value_width + 2), '-') << '\n';
    }
  }
  out << "\nprobability of exceeding the budget: " << shown(result.prob_over_budget, {"%", 100, 2})
      << " %\n";
}

void write_key_figures_csv(const std::string& path, const RunResult& result) {
  TextOutput file(path);
  std::ofstream& out = file.out;
  out << "key_figure,unit,mean,p05,p50,p95\n";
  for (const Row& row : rows_of(result)) {
    out << csv_field(row.name) << ',' << csv_field(row.info->unit);
    for (double v : row.stats) out << ',' << full_precision(v);
    out << '\n';
  }
  // A single probability across paths: it has no quantiles.
  out << "prob_over_budget,probability," << full_precision(result.prob_over_budget) << ",,,\n";
  file.commit();
}

void write_key_figures_json(const std::string& path, const ScenarioSpec& spec,
                            const RunResult& result) {
  const Layout& layout = result.layout;
  TextOutput file(path);
  std::ofstream& out = file.out;
  out << "{\n";
  out << "  \"format_version\": " << kFormatVersion << ",\n";
  out << "  \"scenario\": " << json_string(spec.name) << ",\n";
  out << "  \"paths\": " << result.paths << ",\n";
  out << "  \"seed\": " << result.seed << ",\n";
  out << "  \"steps\": " << layout.steps << ",\n";
  out << "  \"step_hours\": " << json_number(layout.step_hours) << ",\n";
  out << "  \"prob_over_budget\": " << json_number(result.prob_over_budget) << ",\n";
  out << "  \"key_figures\": {";
  auto stats = [&](Eigen::Index column) {
    std::string text;
    for (std::size_t j = 0; j < kStatNames.size(); ++j) {
      text += std::string(j == 0 ? "" : ", ") + "\"" + kStatNames[j] +
              "\": " + json_number(result.key_figure_stats(static_cast<Eigen::Index>(j), column));
    }
    return text;
  };
  for (std::size_t k = 0; k < layout.key_figures.size(); ++k) {
    const KeyFigureInfo& info = layout.key_figures[k];
    out << (k == 0 ? "\n" : ",\n") << "    " << json_string(info.name)
        << ": {\"unit\": " << json_string(info.unit)
        << ", \"description\": " << json_string(info.description);
    if (info.dims.empty()) {
      out << ", " << stats(info.offset) << "}";
      continue;
    }
    out << ",\n      \"by_class\": {";
    for (Eigen::Index i = 0; i < info.width; ++i) {
      out << (i == 0 ? "\n" : ",\n") << "        "
          << json_string(layout.classes.at(static_cast<std::size_t>(i))) << ": {"
          << stats(info.offset + i) << "}";
    }
    out << "\n      }}";
  }
  out << "\n  }\n}\n";
  file.commit();
}

}  // namespace capsim::io
