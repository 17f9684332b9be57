package Test::Scim::SimpleSAMLphp;

# A real SAML 2.0 identity provider for the end-to-end tests: Debian's
# SimpleSAMLphp (package simplesamlphp, 1.19) on our own php-fpm (package
# php8.2-fpm), served by a server block of the nginx under test.
#
#   my $idp = Test::Scim::SimpleSAMLphp->new(
#       host => 'idp.example.test', tls => 1,   # https://idp.example.test:PORT
#       users => { alice => { password => 's3cret', mail => 'alice@example.com' } });
#   $idp->start;                       # php-fpm on a free port of 127.0.0.1
#   servers => $idp->server_config     # the nginx server block (fastcgi_pass)
#   $idp->fetch_metadata($file)        # its IdP metadata, as served (the
#                                      # harness reads it over plain HTTP)
#   $idp->trust_sp($sp_metadata_xml)   # our SP's metadata, as we serve it
#   $idp->stop;                        # by PID; the END block does it too
#
# Everything is generated at test time in dir(): the configuration
# directory (handed to SimpleSAMLphp through the SIMPLESAMLPHP_CONFIG_DIR
# environment variable of the php-fpm pool), the IdP key and certificate
# (openssl), the users (exampleauth:UserPass), the metadata of the hosted
# IdP and, as an XML metadata source, the metadata of the remote SP. The
# package's own /etc/simplesamlphp is never read or changed. The NameID is
# the user's "mail" attribute, in the emailAddress format our SP asks for.

use strict;
use warnings;

use File::Path qw(make_path);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP ();
use Test::Scim::Nginx;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);

my @instances;

END {
    local $?;
    $_->stop for grep { $_->{pid} } @instances;
}

sub php_fpm { $ENV{TEST_PHP_FPM} // (sort glob('/usr/sbin/php-fpm*'))[-1] // '/usr/sbin/php-fpm8.2' }
sub ssp_root { $ENV{TEST_SIMPLESAMLPHP} // '/usr/share/simplesamlphp' }

# The user php-fpm's workers run as when the tests run as root (the same as
# nginx's workers in Test::Scim::Nginx).
sub worker_user { $> == 0 ? 'nobody' : undef }

# new(users => { name => { password, mail, givenName, sn, ... } },
#     host => the name browsers use (127.0.0.1), tls => 1 (browsers reach it
#     over https with a certificate made now; tls_spki() is its pin),
#     port => the nginx port the IdP is served on (free by default))
sub new {
    my ($class, %o) = @_;
    -x php_fpm()
        or die "the IdP cannot start: php-fpm (${\ php_fpm()}) is missing (Debian package php8.2-fpm; "
             . "tools/install-deps test installs it)\n";
    -f ssp_root() . '/www/saml2/idp/SSOService.php'
        or die "the IdP cannot start: SimpleSAMLphp is not in ${\ ssp_root()} (Debian package "
             . "simplesamlphp; tools/install-deps test installs it)\n";
    my $dir = tempdir('scim-idp-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{TEST_KEEP});
    chmod 0755, $dir;
    my $self = bless {
        dir        => $dir,
        host       => $o{host} // '127.0.0.1',
        tls        => $o{tls},
        port       => $o{port} // Test::Scim::Nginx::free_port(),
        plain_port => Test::Scim::Nginx::free_port(),
        fpm_port   => Test::Scim::Nginx::free_port(),
        users      => $o{users} // {},
    }, $class;
    push @instances, $self;
    make_path(map { "$dir/$_" } qw(config metadata cert log data tmp sessions));
    # What the workers write to; all else they only read.
    if (defined worker_user()) {
        my (undef, undef, $uid, $gid) = getpwnam(worker_user());
        chown $uid, $gid, map { "$dir/$_" } qw(log data tmp sessions);
    }
    $self->keypair;
    $self->tls_keypair if $self->{tls};
    $self->write_config;
    return $self;
}

sub dir { $_[0]{dir} }
sub port { $_[0]{port} }
sub host { $_[0]{host} }
sub base_url { ($_[0]{tls} ? 'https' : 'http') . "://$_[0]{host}:$_[0]{port}/simplesaml/" }
sub entity_id { $_[0]->base_url . 'saml2/idp/metadata.php' }
# Where the test harness (HTTP::Tiny, no TLS) reads the metadata.
sub metadata_url { "http://127.0.0.1:$_[0]{plain_port}/simplesaml/saml2/idp/metadata.php" }
sub sso_url { $_[0]->base_url . 'saml2/idp/SSOService.php' }

sub run {
    my ($cmd) = @_;
    my $out = `$cmd 2>&1`;
    die "command failed ($?): $cmd\n$out" if $?;
    return $out;
}

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or return '';
    local $/;
    return scalar <$fh>;
}

sub spew {
    my ($file, $text) = @_;
    open my $fh, '>', $file or die "$file: $!";
    print $fh $text;
    close $fh;
    return $file;
}

# The IdP's signing key pair, made now: RSA-2048, self-signed, valid 2 days.
sub keypair {
    my $self = shift;
    run("openssl req -x509 -newkey rsa:2048 -nodes -keyout $self->{dir}/cert/idp.key "
        . "-out $self->{dir}/cert/idp.crt -days 2 -subj /CN=idp.e2e.test");
    chmod 0644, "$self->{dir}/cert/idp.key";    # read by the workers (nobody)
}

# The certificate browsers see: for host(), RSA-2048, self-signed.
sub tls_keypair {
    my $self = shift;
    my ($key, $crt) = tls_certificate("$self->{dir}/cert/tls", $self->{host});
    $self->{tls_spki} = spki($crt);
}

# SHA-256 of a certificate's public key, base64: what Chromium's
# --ignore-certificate-errors-spki-list takes to trust that one key.
sub tls_spki { $_[0]{tls_spki} }

sub tls_certificate {
    my ($base, $host) = @_;
    run("openssl req -x509 -newkey rsa:2048 -nodes -keyout $base.key -out $base.crt -days 2 "
        . "-subj /CN=$host -addext subjectAltName=DNS:$host");
    return ("$base.key", "$base.crt");
}

sub spki {
    my ($crt) = @_;
    my $b64 = run("openssl x509 -in $crt -noout -pubkey | openssl pkey -pubin -outform der "
                  . "| openssl dgst -sha256 -binary | openssl base64 -A");
    return $b64 =~ s/\s+//gr;
}

# A PHP file returning $name = the decoded JSON of $data: no PHP quoting to
# get wrong, whatever the values hold.
sub php_json {
    my ($name, $data) = @_;
    my $json = JSON::PP->new->canonical->pretty->encode($data);
    die "JSON holds the nowdoc end marker" if $json =~ /^JSON\b/m;
    return "<?php\n// Written by t/lib/Test/Scim/SimpleSAMLphp.pm for one test run.\n"
         . "\$$name = json_decode(<<<'JSON'\n${json}JSON\n, true, 512, JSON_THROW_ON_ERROR);\n";
}

sub write_config {
    my $self = shift;
    my $d = $self->{dir};
    spew("$d/config/config.php", php_json(config => {
        baseurlpath               => $self->base_url,
        certdir                   => "$d/cert/",
        loggingdir                => "$d/log/",
        datadir                   => "$d/data/",
        tempdir                   => "$d/tmp",
        metadatadir               => "$d/metadata/",
        attributenamemapdir       => ssp_root() . '/attributemap/',
        'metadata.sources'        => [
            { type => 'flatfile', directory => "$d/metadata" },
            { type => 'xml', file => "$d/metadata/sp-metadata.xml" },
        ],
        secretsalt                => join('', map { ('a' .. 'z', 0 .. 9)[rand 36] } 1 .. 32),
        'auth.adminpassword'      => join('', map { ('a' .. 'z', 0 .. 9)[rand 36] } 1 .. 32),
        'admin.protectindexpage'  => JSON::PP::true,
        'admin.protectmetadata'   => JSON::PP::false,
        'admin.checkforupdates'   => JSON::PP::false,    # no network here
        technicalcontact_name     => 'e2e test',
        technicalcontact_email    => 'na@example.com',
        timezone                  => 'UTC',
        'enable.saml20-idp'       => JSON::PP::true,
        'enable.shib13-idp'       => JSON::PP::false,
        'enable.adfs-idp'         => JSON::PP::false,
        'module.enable'           => { exampleauth => JSON::PP::true, core => JSON::PP::true,
                                       saml => JSON::PP::true },
        'logging.handler'         => 'file',
        'logging.logfile'         => 'simplesamlphp.log',
        'logging.level'           => 7,                  # SimpleSAML\Logger::DEBUG
        'statistics.out'          => [],
        debug                     => { saml => JSON::PP::false, backtraces => JSON::PP::true,
                                       validatexml => JSON::PP::false },
        showerrors                => JSON::PP::true,
        errorreporting            => JSON::PP::false,
        usenewui                  => JSON::PP::true,
        'store.type'              => 'phpsession',
        'session.phpsession.savepath' => "$d/sessions",
        'session.phpsession.cookiename' => 'SimpleSAML',
        'session.phpsession.httponly' => JSON::PP::true,
        'session.cookie.name'     => 'SimpleSAMLSessionID',
        # On TLS, what Debian's own configuration sets; on plain HTTP,
        # cookies without Secure (and so without SameSite=None).
        'session.cookie.secure'   => $self->{tls} ? JSON::PP::true : JSON::PP::false,
        'session.cookie.samesite' => $self->{tls} ? 'None' : undef,
        'session.authtoken.cookiename' => 'SimpleSAMLAuthToken',
        'language.cookie.secure'  => $self->{tls} ? JSON::PP::true : JSON::PP::false,
        'language.cookie.samesite' => $self->{tls} ? 'None' : undef,
        'language.default'        => 'en',
        'language.available'      => ['en'],
        'theme.use'               => 'default',
        production                => JSON::PP::true,
        'trusted.url.domains'     => ["$self->{host}:$self->{port}"],
    }));

    my %users;
    for my $name (sort keys %{ $self->{users} }) {
        my %u = %{ $self->{users}{$name} };
        my $password = delete $u{password} // die "user $name needs a password";
        $users{"$name:$password"} = { uid => [$name], map { ($_ => ref $u{$_} ? $u{$_} : [$u{$_}]) } keys %u };
    }
    spew("$d/config/authsources.php", php_json(config => {
        admin     => ['core:AdminPassword'],
        # PHP's [0 => class, "user:password" => attributes, ...]
        userpass  => { 0 => 'exampleauth:UserPass', %users },
    }));

    spew("$d/metadata/saml20-idp-hosted.php", php_json(hosted => {
        $self->entity_id => {
            host            => '__DEFAULT__',
            privatekey      => 'idp.key',
            certificate     => 'idp.crt',
            auth            => 'userpass',
            # The NameID our SP links to the SCIM user: the primary e-mail.
            'simplesaml.nameidattribute' => 'mail',
            NameIDFormat    => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
            'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
            'saml20.sign.assertion' => JSON::PP::true,
            'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',
        },
    }) . "\$metadata = \$hosted;\n");
    # Until trust_sp() says otherwise, no SP is known.
    $self->trust_sp(q{<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>})
        unless -f "$d/metadata/sp-metadata.xml";

    my $user = defined worker_user() ? "user = ${\ worker_user()}\ngroup = nogroup\n" : '';
    spew("$d/php-fpm.conf", <<"EOF");
; php-fpm for one test run: one pool on the loopback, logs in this folder.
[global]
pid = $d/php-fpm.pid
error_log = $d/log/php-fpm.log
daemonize = no
log_level = notice

[idp]
${user}listen = 127.0.0.1:$self->{fpm_port}
listen.allowed_clients = 127.0.0.1
pm = static
pm.max_children = 2
catch_workers_output = yes
clear_env = yes
; How SimpleSAMLphp finds the configuration of this run (getenv() in
; SimpleSAML\\Utils\\Config::getConfigDir()).
env[SIMPLESAMLPHP_CONFIG_DIR] = $d/config
env[TMPDIR] = $d/tmp
php_admin_flag[log_errors] = on
php_admin_value[error_log] = $d/log/php-errors.log
php_admin_flag[display_errors] = off
php_admin_value[session.save_path] = $d/sessions
; Files the test rewrites (the SP metadata) are read again at once.
php_admin_value[opcache.revalidate_freq] = 0
EOF
}

# Our SP's metadata (the XML nginx serves at scim_saml_metadata) becomes
# the IdP's XML metadata source: the SP is known by what it publishes.
sub trust_sp {
    my ($self, $xml) = @_;
    spew("$self->{dir}/metadata/sp-metadata.xml", $xml);
}

# The nginx server block serving SimpleSAMLphp (static assets by alias,
# PHP through fastcgi_pass to our php-fpm), the layout of SimpleSAMLphp's
# own nginx example; a second, plain listener for the test harness.
sub server_config {
    my $self = shift;
    my $www = ssp_root() . '/www';
    my $listen = $self->{tls}
        ? "listen 127.0.0.1:$self->{port} ssl;\n        ssl_certificate $self->{dir}/cert/tls.crt;\n"
          . "        ssl_certificate_key $self->{dir}/cert/tls.key;\n"
        : "listen 127.0.0.1:$self->{port};\n";
    return <<"EOF";
    server {
        $listen        listen 127.0.0.1:$self->{plain_port};
        server_name $self->{host};
        location = / { return 302 /simplesaml/; }
        location ^~ /simplesaml/ {
            alias $www/;
            index index.php;
            location ~ ^/simplesaml(?<phpfile>/.+?\\.php)(?<pathinfo>/.*)?\$ {
                alias $www;
                include /etc/nginx/fastcgi_params;
                fastcgi_param SCRIPT_FILENAME $www\$phpfile;
                fastcgi_param SCRIPT_NAME /simplesaml\$phpfile;
                fastcgi_param PATH_INFO \$pathinfo if_not_empty;
                fastcgi_pass 127.0.0.1:$self->{fpm_port};
            }
        }
    }
EOF
}

sub start {
    my $self = shift;
    die "already running" if $self->{pid};
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', "$self->{dir}/log/php-fpm.out";
        open STDERR, '>&', \*STDOUT;
        exec php_fpm(), '--nodaemonize', '--fpm-config', "$self->{dir}/php-fpm.conf";
        exit 127;
    }
    $self->{pid} = $pid;
    my $deadline = time + 15;
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $self->{pid};
            die "the IdP cannot start: php-fpm exited at once (status $?):\n" . $self->logs;
        }
        return $self if IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{fpm_port}, Proto => 'tcp');
        sleep 0.05;
    }
    $self->stop;
    die "the IdP cannot start: php-fpm is not listening on 127.0.0.1:$self->{fpm_port} after 15s:\n" . $self->logs;
}

sub stop {
    my $self = shift;
    my $pid = delete $self->{pid} or return;
    Test::Scim::Nginx::end_process($pid, 'QUIT');    # graceful: the workers finish their request
}

# What php-fpm and SimpleSAMLphp logged, for failure messages.
sub logs {
    my $self = shift;
    my $out = '';
    for my $f (qw(php-fpm.out php-fpm.log php-errors.log simplesamlphp.log)) {
        my $text = slurp("$self->{dir}/log/$f");
        next unless length $text;
        my @lines = split /\n/, $text;
        @lines = @lines[-40 .. -1] if @lines > 40;
        $out .= "--- $f\n" . join("\n", @lines) . "\n";
    }
    return $out;
}

# GET the IdP's metadata as it serves it (through nginx); writes it to FILE.
sub fetch_metadata {
    my ($self, $file) = @_;
    my $res = HTTP::Tiny->new(timeout => 30)->get($self->metadata_url);
    die "the IdP cannot start: GET ${\ $self->metadata_url} answered $res->{status} $res->{reason}:\n"
      . substr($res->{content} // '', 0, 2000) . "\n" . $self->logs
        unless $res->{success} && ($res->{content} // '') =~ /<md:EntityDescriptor/;
    spew($file, $res->{content});
    return $res->{content};
}

1;
