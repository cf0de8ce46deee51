// Internal to the decoder (decoder.cc, decode_connect.cc): body decoders for one packet whose
// bytes are all present. Each reads the variable header and payload from `r` (exactly the
// Remaining Length bytes), fills *out and returns true, or returns false with the error in `r`.
#pragma once

#include "ingest/mqtt/decoder.h"
#include "ingest/mqtt/packet.h"
#include "ingest/mqtt/wire.h"

namespace cistern::mqtt::internal {

// *version is set as soon as the protocol level has been read (kUnknown before that, or when
// the name/level are not MQTT 3.1.1 or 5.0), so the caller knows how to answer an error.
bool DecodeConnect(Reader& r, const DecoderOptions& options, Connect* out,
                   ProtocolVersion* version);

// A Topic Name check shared by PUBLISH and the Will (MQTT-3.3.2-2, MQTT-4.7.3-1).
bool CheckTopicName(Reader& r, const std::string& topic, const char* what);

// Fails with "N bytes after the last field" unless `r` is empty.
bool ExpectEnd(Reader& r, const char* packet);

}  // namespace cistern::mqtt::internal
