"""The harness itself: a user made by the factory can sign in through the API."""


def test_a_factory_user_signs_in_and_sees_who_they_are(make, client, api_login):
    coach = make.user("coach")
    response = client.get("/api/v1/auth/me", headers=api_login(coach))
    assert response.status_code == 200
    assert response.get_json()["email"] == coach.email
