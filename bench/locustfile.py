"""The three journeys of `make load` (run by bench/load.py, which signs the users in first and passes
their tokens in LOAD_TOKENS): a referrer hands a client over, a coach opens the overview of the
programme's referrals, a partner opens its inbox."""
from __future__ import annotations

import json
import os
import random

from locust import FastHttpUser, between, task

with open(os.environ["LOAD_TOKENS"]) as tokens_file:
    TOKENS = json.load(tokens_file)


class Journey(FastHttpUser):
    abstract = True
    wait_time = between(0.05, 0.3)
    role = ""

    def on_start(self):
        account = random.choice(TOKENS[self.role])
        self.headers = {"Authorization": f"Bearer {account['token']}", "Accept-Language": "en"}
        self.account = account


class Referrer(Journey):
    role = "referrer"
    weight = 1

    @task
    def hand_over(self):
        body = {**TOKENS["handoff"], "to_organisation_id": random.choice(TOKENS["programmes"])}
        self.client.post("/api/v1/referrals", json=body, headers=self.headers, name="POST /referrals (handoff)")


class Coach(Journey):
    role = "coach"
    weight = 2

    @task
    def overview(self):
        self.client.get("/api/v1/service-referrals?per_page=25", headers=self.headers,
                        name="GET /service-referrals (coach overview)")


class Partner(Journey):
    role = "partner"
    weight = 2

    @task
    def inbox(self):
        self.client.get("/api/v1/service-referrals?per_page=25&open=true", headers=self.headers,
                        name="GET /service-referrals (partner inbox)")
