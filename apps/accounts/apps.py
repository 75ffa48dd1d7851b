from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from apps.accounts.mfa import remember_sign_in_time

        user_logged_in.connect(remember_sign_in_time, dispatch_uid="accounts.remember_sign_in_time")
