#include "load/timeline.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace sluice::load {
namespace {

constexpr double kWidth = 900, kHeight = 420;
constexpr double kLeft = 60, kRight = 70, kTop = 40, kBottom = 50;

std::string Fixed(double value, int digits = 1) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.*f", digits, value);
  return text;
}

// An SVG polyline through (t, value) scaled to the plot area.
std::string Polyline(const std::vector<Sample>& samples, double t_max, double y_max,
                     int (*value)(const Sample&), const std::string& style) {
  std::ostringstream points;
  const double w = kWidth - kLeft - kRight, h = kHeight - kTop - kBottom;
  for (const auto& sample : samples) {
    const double x = kLeft + sample.t_s / t_max * w;
    const double y = kTop + h - static_cast<double>(value(sample)) / y_max * h;
    points << Fixed(x) << ',' << Fixed(y) << ' ';
  }
  return "<polyline fill=\"none\" " + style + " points=\"" + points.str() + "\"/>\n";
}

}  // namespace

Status Timeline::WriteSvg(const std::string& path, const std::string& title) const {
  double t_max = 1;
  int slots_max = 1, queue_max = 1;
  for (const auto& s : samples_) {
    t_max = std::max(t_max, s.t_s);
    slots_max = std::max({slots_max, s.in_flight, s.limit});
    queue_max = std::max(queue_max, s.queued);
  }
  const double slots_axis = slots_max * 1.15, queue_axis = queue_max * 1.05;
  const double w = kWidth - kLeft - kRight, h = kHeight - kTop - kBottom;
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\""
      << kHeight << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << kLeft << "\" y=\"22\" font-size=\"15\">" << title << "</text>\n"
      << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << w << "\" height=\"" << h
      << "\" fill=\"none\" stroke=\"#999\"/>\n";
  for (int tick = 0; tick <= 4; ++tick) {
    const double y = kTop + h - tick / 4.0 * h;
    const double x = kLeft + tick / 4.0 * w;
    svg << "<text x=\"" << kLeft - 8 << "\" y=\"" << Fixed(y + 4)
        << "\" text-anchor=\"end\" fill=\"#1f77b4\">" << Fixed(slots_axis * tick / 4, 0)
        << "</text>\n"
        << "<text x=\"" << kWidth - kRight + 8 << "\" y=\"" << Fixed(y + 4)
        << "\" fill=\"#ff7f0e\">" << Fixed(queue_axis * tick / 4, 0) << "</text>\n"
        << "<text x=\"" << Fixed(x) << "\" y=\"" << kHeight - kBottom + 18
        << "\" text-anchor=\"middle\">" << Fixed(t_max * tick / 4, 0) << "</text>\n";
  }
  svg << "<text x=\"" << kLeft + w / 2 << "\" y=\"" << kHeight - 12
      << "\" text-anchor=\"middle\">seconds</text>\n"
      << Polyline(samples_, t_max, queue_axis, [](const Sample& s) { return s.queued; },
                  "stroke=\"#ff7f0e\" stroke-width=\"1.5\"")
      << Polyline(samples_, t_max, slots_axis, [](const Sample& s) { return s.in_flight; },
                  "stroke=\"#1f77b4\" stroke-width=\"1.5\"")
      << Polyline(samples_, t_max, slots_axis, [](const Sample& s) { return s.limit; },
                  "stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"6,4\"")
      << "<text x=\"" << kLeft + 10 << "\" y=\"" << kHeight - kBottom - 8
      << "\" fill=\"#1f77b4\">in flight (left)</text>\n"
      << "<text x=\"" << kLeft + 130 << "\" y=\"" << kHeight - kBottom - 8
      << "\" fill=\"#d62728\">limit (left)</text>\n"
      << "<text x=\"" << kLeft + 220 << "\" y=\"" << kHeight - kBottom - 8
      << "\" fill=\"#ff7f0e\">queued (right)</text>\n"
      << "</svg>\n";
  std::ofstream out(path, std::ios::trunc);
  out << svg.str();
  out.close();
  if (!out) return Fail(Errc::kIo, "cannot write the chart to " + path);
  return {};
}

}  // namespace sluice::load
