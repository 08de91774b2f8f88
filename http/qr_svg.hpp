// QR codes as SVG images, drawn by libqrencode (the symbol) and this file (its SVG outline).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace eventhub::http {

/// An SVG document of a QR code of `text` (error correction level M, a 4-module quiet zone, one
/// path of black modules on white); nullopt when the text does not fit a QR code.
std::optional<std::string> qr_svg(std::string_view text);

} // namespace eventhub::http
