// QR codes as SVG; see qr_svg.hpp.
#include "http/qr_svg.hpp"

#include <qrencode.h>

#include <memory>

namespace eventhub::http {
namespace {

constexpr int quiet_zone = 4; // modules of white around the symbol (ISO/IEC 18004)

struct qrcode_free {
  void operator()(QRcode* q) const { QRcode_free(q); }
};

} // namespace

std::optional<std::string> qr_svg(std::string_view text) {
  const std::string copy(text); // libqrencode reads a NUL-terminated string
  std::unique_ptr<QRcode, qrcode_free> q(QRcode_encodeString8bit(copy.c_str(), 0, QR_ECLEVEL_M));
  if (!q)
    return std::nullopt;
  const int width = q->width;
  const int side = width + 2 * quiet_zone;
  std::string svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" viewBox=\"0 0 " +
                    std::to_string(side) + ' ' + std::to_string(side) + "\" width=\"" +
                    std::to_string(side * 8) + "\" height=\"" + std::to_string(side * 8) +
                    "\" shape-rendering=\"crispEdges\">\n<rect width=\"100%\" height=\"100%\" "
                    "fill=\"#ffffff\"/>\n<path fill=\"#000000\" d=\"";
  // Bit 0 of each module is "black"; one horizontal run of black modules is one rectangle.
  for (int y = 0; y < width; ++y)
    for (int x = 0; x < width;) {
      if (!(q->data[y * width + x] & 1)) {
        ++x;
        continue;
      }
      const int start = x;
      while (x < width && (q->data[y * width + x] & 1))
        ++x;
      svg += 'M' + std::to_string(start + quiet_zone) + ' ' + std::to_string(y + quiet_zone) + 'h' +
             std::to_string(x - start) + "v1h-" + std::to_string(x - start) + 'z';
    }
  svg += "\"/>\n</svg>\n";
  return svg;
}

} // namespace eventhub::http
