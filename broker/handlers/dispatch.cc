// The request type -> handler table. Each handler lives in its own file in this folder.

#include "broker/handlers/request_context.h"

namespace sluice {

void handle_api_versions(request_context ctx);
void handle_produce(request_context ctx);
void handle_fetch(request_context ctx);
void handle_list_offsets(request_context ctx);
void handle_metadata(request_context ctx);
void handle_create_topics(request_context ctx);
void handle_delete_topics(request_context ctx);
void handle_describe_topics(request_context ctx);
void handle_alter_configs(request_context ctx);
void handle_init_producer_id(request_context ctx);

request_handler handler_for(wire::RequestBody type) {
  using T = wire::RequestBody;
  switch (type) {
    case T::ApiVersionsRequest:
      return handle_api_versions;
    case T::ProduceRequest:
      return handle_produce;
    case T::FetchRequest:
      return handle_fetch;
    case T::ListOffsetsRequest:
      return handle_list_offsets;
    case T::MetadataRequest:
      return handle_metadata;
    case T::CreateTopicsRequest:
      return handle_create_topics;
    case T::DeleteTopicsRequest:
      return handle_delete_topics;
    case T::DescribeTopicsRequest:
      return handle_describe_topics;
    case T::AlterConfigsRequest:
      return handle_alter_configs;
    case T::InitProducerIdRequest:
      return handle_init_producer_id;
    case T::NONE:
      return nullptr;
  }
  return nullptr;
}

}  // namespace sluice
