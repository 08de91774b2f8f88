// The one translation unit compiling Beast and Asio (BOOST_*_SEPARATE_COMPILATION), so the
// other http/ files include only declarations.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
