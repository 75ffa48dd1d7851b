"""Encrypt the TOTP secrets and recovery-code seeds allauth stored in clear before MFAAdapter.

Idempotent: a secret that is already a Fernet token is left as it is, so running this again (or
on a database where every secret was written through the adapter) changes nothing.
"""

from django.db import migrations

from apps.accounts.mfa_secrets import encrypted_data


def encrypt_clear_secrets(apps, schema_editor):
    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.using(schema_editor.connection.alias).iterator():
        new_data = encrypted_data(authenticator.data, authenticator.type)
        if new_data != authenticator.data:
            authenticator.data = new_data
            authenticator.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt_clear_secrets, migrations.RunPython.noop)]
