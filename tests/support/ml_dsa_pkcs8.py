"""ML-DSA PKCS#8 test keys made without certrole: Python's `cryptography` and hashlib.

    python3 ml_dsa_pkcs8.py OUT_DIR FIXTURE.pem... < passphrase

For each official-helper key (PKCS#8, "both" form: SEQUENCE of seed and expanded key), writes the
three RFC 9881 forms as plain PKCS#8 DER (OUT/<name>-{seed,expanded,both}.der), each of them also
encrypted with every PBES2 variant certrole reads (PBKDF2 with HMAC-SHA1 absent or explicit,
-SHA224/256/384/512, or scrypt; AES-128/192/256-CBC or DES-EDE3-CBC), and prints a JSON manifest.
It also checks, with `cryptography`, that the seed gives the public key in the fixture's
certificate file (OUT has no certrole code in its making).
"""
import base64
import hashlib
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.asymmetric import mldsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def tlv(tag, content):
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def seq(*parts):
    return tlv(0x30, b"".join(parts))


def octets(data):
    return tlv(0x04, data)


def integer(value):
    raw = value.to_bytes((value.bit_length() + 8) // 8 or 1, "big")
    return tlv(0x02, raw)


def oid(dotted):
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray()
    for arc in [arcs[0] * 40 + arcs[1]] + arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.insert(0, 0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(chunk)
    return tlv(0x06, bytes(out))


NULL = b"\x05\x00"


def read(data, offset=0):
    """(tag, value_start, end) of the TLV at offset."""
    tag, length = data[offset], data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[start:start + count], "big")
        start += count
    return tag, start, start + length


def children(data, start, end):
    out = []
    while start < end:
        tag, value, stop = read(data, start)
        out.append((tag, data[start:stop], data[value:stop]))
        start = stop
    return out


OIDS = {"44": "2.16.840.1.101.3.4.3.17", "65": "2.16.840.1.101.3.4.3.18", "87": "2.16.840.1.101.3.4.3.19"}
KEY_CLASSES = {"44": mldsa.MLDSA44PrivateKey, "65": mldsa.MLDSA65PrivateKey, "87": mldsa.MLDSA87PrivateKey}
CIPHERS = {
    "aes-128-cbc": ("2.16.840.1.101.3.4.1.2", 16, 16, algorithms.AES),
    "aes-192-cbc": ("2.16.840.1.101.3.4.1.22", 24, 16, algorithms.AES),
    "aes-256-cbc": ("2.16.840.1.101.3.4.1.42", 32, 16, algorithms.AES),
    "des-ede3-cbc": ("1.2.840.113549.3.7", 24, 8, TripleDES),
}
PRFS = {
    "sha1-absent": None,
    "sha1": ("1.2.840.113549.2.7", "sha1"),
    "sha224": ("1.2.840.113549.2.8", "sha224"),
    "sha256": ("1.2.840.113549.2.9", "sha256"),
    "sha384": ("1.2.840.113549.2.10", "sha384"),
    "sha512": ("1.2.840.113549.2.11", "sha512"),
}


def encrypt(plain, passphrase, kdf, cipher_name, salt, iv):
    cipher_oid, key_length, block, algorithm = CIPHERS[cipher_name]
    if kdf == "scrypt":
        key = hashlib.scrypt(passphrase, salt=salt, n=1024, r=8, p=1, dklen=key_length)
        kdf_der = seq(oid("1.3.6.1.4.1.11591.4.11"), seq(octets(salt), integer(1024), integer(8), integer(1)))
    else:
        prf = PRFS[kdf]
        key = hashlib.pbkdf2_hmac(prf[1] if prf else "sha1", passphrase, salt, 1000, key_length)
        prf_der = seq(oid(prf[0]), NULL) if prf else b""
        kdf_der = seq(oid("1.2.840.113549.1.5.12"), seq(octets(salt), integer(1000), prf_der))
    padder = padding.PKCS7(block * 8).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithm(key), modes.CBC(iv[:block])).encryptor()
    data = encryptor.update(padded) + encryptor.finalize()
    scheme = seq(oid("1.2.840.113549.1.5.13"), seq(kdf_der, seq(oid(cipher_oid), octets(iv[:block]))))
    return seq(scheme, octets(data))


def main():
    out_dir, fixtures = sys.argv[1], sys.argv[2:]
    passphrase = sys.stdin.read().encode()
    manifest = []
    for path in fixtures:
        name = os.path.basename(path).split("-")[0]  # mldsa44
        level = name[-2:]
        pem = open(path, "rb").read().decode()
        body = "".join(line for line in pem.splitlines() if line and not line.startswith("-----"))
        pkcs8 = base64.b64decode(body)
        _, value, end = read(pkcs8)
        fields = children(pkcs8, value, end)
        inner = fields[2][2]
        _, both_value, both_end = read(inner)
        (_, _, seed), (_, _, expanded) = children(inner, both_value, both_end)
        algorithm = seq(oid(OIDS[level]))
        forms = {
            "seed": seq(integer(0), algorithm, octets(tlv(0x80, seed))),
            "expanded": seq(integer(0), algorithm, octets(octets(expanded))),
            "both": seq(integer(0), algorithm, octets(inner)),
        }
        certificate = x509.load_pem_x509_certificate(open(path.replace("-key.pem", "-cert.pem"), "rb").read())
        public = KEY_CLASSES[level].from_seed_bytes(seed).public_key().public_bytes_raw()
        if public != certificate.public_key().public_bytes_raw():
            raise SystemExit(f"{path}: the seed does not give the certificate's public key")
        for form, plain in forms.items():
            base = f"{out_dir}/{name}-{form}"
            open(f"{base}.der", "wb").write(plain)
            manifest.append({"level": level, "form": form, "file": f"{base}.der", "encryption": None})
            for kdf in [*PRFS, "scrypt"]:
                for cipher_name in CIPHERS:
                    file = f"{base}-{kdf}-{cipher_name}.der"
                    salt, iv = os.urandom(16), os.urandom(16)
                    open(file, "wb").write(encrypt(plain, passphrase, kdf, cipher_name, salt, iv))
                    manifest.append({"level": level, "form": form, "file": file, "encryption": f"{kdf} {cipher_name}"})
    print(json.dumps(manifest))


main()
