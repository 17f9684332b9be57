# Tests for errors nginx itself answers in a SCIM location: they arrive as
# SCIM error JSON too, with nginx's own log line.

use Test::Scim;

plan tests => 20;

run_blocks();

__DATA__

=== TEST 1: a body over client_max_body_size (Content-Length)
--- config
location /scim/v2/ {
    client_max_body_size 1k;
    scim_api test;
}
--- request
POST /scim/v2/Users
--- more_headers
Authorization: Bearer $TEST_NGINX_TOKEN
Content-Type: application/scim+json
--- request_body eval
'{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"' . ('x' x 2000) . '"}'
--- error_code: 413
--- response_headers
Content-Type: application/scim+json
--- response_json
{ schemas => ['urn:ietf:params:scim:api:messages:2.0:Error'], status => '413',
  detail => 'the request body is larger than client_max_body_size (1024 bytes)' }
--- error_log
client intended to send too large body

=== TEST 2: a body over client_max_body_size (chunked)
--- config
location /scim/v2/ {
    client_max_body_size 1k;
    scim_api test;
}
--- request
POST /scim/v2/Users
--- more_headers
Authorization: Bearer $TEST_NGINX_TOKEN
Content-Type: application/scim+json
Transfer-Encoding: chunked
--- request_body eval
sprintf("%x\r\n%s\r\n0\r\n\r\n", 3000, 'y' x 3000)
--- error_code: 413
--- response_json
{ status => '413' }
--- error_log
client intended to send too large chunked body

=== TEST 3: under the limit the SCIM handler answers
--- config
location /scim/v2/ {
    client_max_body_size 1k;
    scim_api test;
}
--- request
POST /scim/v2/Users
--- more_headers
Authorization: Bearer $TEST_NGINX_TOKEN
Content-Type: application/scim+json
--- request_body
{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"small"}
--- error_code: 201
--- response_json
{ userName => 'small' }
--- no_error_log
[error]

=== TEST 4: wrong content type
--- request
POST /scim/v2/Users
--- more_headers
Authorization: Bearer $TEST_NGINX_TOKEN
Content-Type: text/plain
--- request_body
hello
--- error_code: 415
--- response_json
{ status => '415', detail => 'Content-Type "text/plain" is not supported: send application/scim+json' }
--- error_log
scim directory "test": 415: Content-Type "text/plain" is not supported

=== TEST 5: a method SCIM does not define on the collection
--- request
DELETE /scim/v2/Users
--- more_headers
Authorization: Bearer $TEST_NGINX_TOKEN
--- error_code: 405
--- response_headers
Allow: GET, HEAD, POST
--- response_json
{ status => '405', detail => 'DELETE is not allowed on "/Users"; allowed: GET, HEAD, POST' }
--- error_log
scim directory "test": 405

=== TEST 6: an error page elsewhere on the server stays nginx's
--- config
location /scim/v2/ {
    scim_api test;
}
location /other/ {
    client_max_body_size 1k;
    return 200;
}
--- request
POST /other/x
--- request_body eval
'z' x 2000
--- error_code: 413
--- response_headers
Content-Type: text/html
--- response_body_like
413 Request Entity Too Large
