#include "postgres/pq_library.h"

#include <libpq-fe.h>

#include <atomic>

#include "common/shared_library.h"

namespace drctl::pg {
namespace {

constexpr SharedLibrarySpec kLibpq{.name = "libpq",
                                   .soname = "libpq.so.5",
                                   .override_env = "DRCTL_LIBPQ",
                                   .package = "libpq5",
                                   .needed_for = "connecting to PostgreSQL"};

// libpq's functions drctl uses: each has a forwarding definition below.
struct PqApi {
  decltype(&::PQclear) clear = nullptr;
  decltype(&::PQconnectdb) connectdb = nullptr;
  decltype(&::PQconnectdbParams) connectdb_params = nullptr;
  decltype(&::PQconninfoFree) conninfo_free = nullptr;
  decltype(&::PQconninfoParse) conninfo_parse = nullptr;
  decltype(&::PQconsumeInput) consume_input = nullptr;
  decltype(&::PQerrorMessage) error_message = nullptr;
  decltype(&::PQexec) exec = nullptr;
  decltype(&::PQfinish) finish = nullptr;
  decltype(&::PQflush) flush = nullptr;
  decltype(&::PQfreemem) freemem = nullptr;
  decltype(&::PQgetCopyData) get_copy_data = nullptr;
  decltype(&::PQgetResult) get_result = nullptr;
  decltype(&::PQgetisnull) getisnull = nullptr;
  decltype(&::PQgetlength) getlength = nullptr;
  decltype(&::PQgetvalue) getvalue = nullptr;
  decltype(&::PQhost) host = nullptr;
  decltype(&::PQnfields) nfields = nullptr;
  decltype(&::PQntuples) ntuples = nullptr;
  decltype(&::PQport) port = nullptr;
  decltype(&::PQputCopyData) put_copy_data = nullptr;
  decltype(&::PQputCopyEnd) put_copy_end = nullptr;
  decltype(&::PQresultStatus) result_status = nullptr;
  decltype(&::PQsocket) socket = nullptr;
  decltype(&::PQstatus) status = nullptr;
};

// Set once every function is resolved; read by the forwarding functions.
std::atomic<const PqApi*> loaded_api{nullptr};

Status Load() {
  auto lib = SharedLibrary::Open(kLibpq);
  if (!lib) return std::unexpected(lib.error());
  static PqApi api;
  DRCTL_TRY(lib->Bind("PQclear", api.clear));
  DRCTL_TRY(lib->Bind("PQconnectdb", api.connectdb));
  DRCTL_TRY(lib->Bind("PQconnectdbParams", api.connectdb_params));
  DRCTL_TRY(lib->Bind("PQconninfoFree", api.conninfo_free));
  DRCTL_TRY(lib->Bind("PQconninfoParse", api.conninfo_parse));
  DRCTL_TRY(lib->Bind("PQconsumeInput", api.consume_input));
  DRCTL_TRY(lib->Bind("PQerrorMessage", api.error_message));
  DRCTL_TRY(lib->Bind("PQexec", api.exec));
  DRCTL_TRY(lib->Bind("PQfinish", api.finish));
  DRCTL_TRY(lib->Bind("PQflush", api.flush));
  DRCTL_TRY(lib->Bind("PQfreemem", api.freemem));
  DRCTL_TRY(lib->Bind("PQgetCopyData", api.get_copy_data));
  DRCTL_TRY(lib->Bind("PQgetResult", api.get_result));
  DRCTL_TRY(lib->Bind("PQgetisnull", api.getisnull));
  DRCTL_TRY(lib->Bind("PQgetlength", api.getlength));
  DRCTL_TRY(lib->Bind("PQgetvalue", api.getvalue));
  DRCTL_TRY(lib->Bind("PQhost", api.host));
  DRCTL_TRY(lib->Bind("PQnfields", api.nfields));
  DRCTL_TRY(lib->Bind("PQntuples", api.ntuples));
  DRCTL_TRY(lib->Bind("PQport", api.port));
  DRCTL_TRY(lib->Bind("PQputCopyData", api.put_copy_data));
  DRCTL_TRY(lib->Bind("PQputCopyEnd", api.put_copy_end));
  DRCTL_TRY(lib->Bind("PQresultStatus", api.result_status));
  DRCTL_TRY(lib->Bind("PQsocket", api.socket));
  DRCTL_TRY(lib->Bind("PQstatus", api.status));
  loaded_api.store(&api, std::memory_order_release);
  return Ok();
}

const PqApi& Api(const char* function) {
  const PqApi* api = loaded_api.load(std::memory_order_acquire);
  if (api == nullptr) AbortNotLoaded(function, "drctl::pg::LoadPq()");
  return *api;
}

}  // namespace

Status LoadPq() {
  static const Status kLoaded = Load();
  return kLoaded;
}

}  // namespace drctl::pg

// The forwarding definitions, with <libpq-fe.h>'s names and signatures.
// NOLINTBEGIN(readability-identifier-naming)
extern "C" {

using drctl::pg::Api;

void PQclear(PGresult* res) { Api(__func__).clear(res); }

PGconn* PQconnectdb(const char* conninfo) { return Api(__func__).connectdb(conninfo); }

PGconn* PQconnectdbParams(const char* const* keywords, const char* const* values,
                          int expand_dbname) {
  return Api(__func__).connectdb_params(keywords, values, expand_dbname);
}

void PQconninfoFree(PQconninfoOption* conn_options) { Api(__func__).conninfo_free(conn_options); }

PQconninfoOption* PQconninfoParse(const char* conninfo, char** errmsg) {
  return Api(__func__).conninfo_parse(conninfo, errmsg);
}

int PQconsumeInput(PGconn* conn) { return Api(__func__).consume_input(conn); }

char* PQerrorMessage(const PGconn* conn) { return Api(__func__).error_message(conn); }

PGresult* PQexec(PGconn* conn, const char* query) { return Api(__func__).exec(conn, query); }

void PQfinish(PGconn* conn) { Api(__func__).finish(conn); }

int PQflush(PGconn* conn) { return Api(__func__).flush(conn); }

void PQfreemem(void* ptr) { Api(__func__).freemem(ptr); }

int PQgetCopyData(PGconn* conn, char** buffer, int async) {
  return Api(__func__).get_copy_data(conn, buffer, async);
}

PGresult* PQgetResult(PGconn* conn) { return Api(__func__).get_result(conn); }

int PQgetisnull(const PGresult* res, int tup_num, int field_num) {
  return Api(__func__).getisnull(res, tup_num, field_num);
}

int PQgetlength(const PGresult* res, int tup_num, int field_num) {
  return Api(__func__).getlength(res, tup_num, field_num);
}

char* PQgetvalue(const PGresult* res, int tup_num, int field_num) {
  return Api(__func__).getvalue(res, tup_num, field_num);
}

char* PQhost(const PGconn* conn) { return Api(__func__).host(conn); }

int PQnfields(const PGresult* res) { return Api(__func__).nfields(res); }

int PQntuples(const PGresult* res) { return Api(__func__).ntuples(res); }

char* PQport(const PGconn* conn) { return Api(__func__).port(conn); }

int PQputCopyData(PGconn* conn, const char* buffer, int nbytes) {
  return Api(__func__).put_copy_data(conn, buffer, nbytes);
}

int PQputCopyEnd(PGconn* conn, const char* errormsg) {
  return Api(__func__).put_copy_end(conn, errormsg);
}

ExecStatusType PQresultStatus(const PGresult* res) { return Api(__func__).result_status(res); }

int PQsocket(const PGconn* conn) { return Api(__func__).socket(conn); }

ConnStatusType PQstatus(const PGconn* conn) { return Api(__func__).status(conn); }

}  // extern "C"
// NOLINTEND(readability-identifier-naming)
