// SQL fragments shared by the query headers: timestamps travel as epoch microseconds (bigint),
// which converts exactly in both directions.
#pragma once

#define EVENTHUB_SQL_MICROS(column) "(extract(epoch FROM " column ") * 1000000)::bigint"
#define EVENTHUB_SQL_TIMESTAMP(param)                                                              \
  "('epoch'::timestamptz + " param "::bigint * interval '1 microsecond')"
