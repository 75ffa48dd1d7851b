from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"

    def ready(self):
        from django.conf import settings
        from django.contrib.auth.signals import user_logged_in

        from apps.accounts.mfa import remember_sign_in_time
        from dexweb.local_dirs import ensure_local_dirs

        user_logged_in.connect(remember_sign_in_time, dispatch_uid="accounts.remember_sign_in_time")
        # The first app Django readies: the SQLite database and broker have their directory
        # before anything opens them.
        ensure_local_dirs(settings)
