"""A small shop API for hotpath's demo: a few cheap endpoints and one that burns CPU in a Python loop.

Serve it the way production would, from this folder:  gunicorn -c gunicorn.conf.py app:app
"""

import unicodedata

from flask import Flask, jsonify, request

app = Flask(__name__)

#: How many integers /cpu_hog and /cpu_hog_reformed add up.
CPU_HOG_COUNT = 2_500_000

#: Most results /search returns; the total match count is reported separately.
SEARCH_PAGE_SIZE = 10

FIRST_NAMES = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Dennis"]
LAST_NAMES = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton"]
CITIES = ["Lyon", "Nantes", "Lille", "Bordeaux", "Grenoble", "Rennes", "Dijon"]

ADJECTIVES = ["Rustic", "Modern", "Compact", "Vintage", "Sturdy", "Elegant", "Foldable", "Handmade"]
MATERIALS = ["oak", "walnut", "steel", "bamboo", "linen", "leather"]
ITEMS = ["chair", "table", "lamp", "shelf", "bench", "desk", "stool", "cabinet"]


def build_users(count=100):
    """Return the fake user table, keyed by id, with the same content on every start."""
    users = {}
    for user_id in range(1, count + 1):
        first = FIRST_NAMES[user_id % len(FIRST_NAMES)]
        last = LAST_NAMES[user_id % len(LAST_NAMES)]
        users[user_id] = {
            "id": user_id,
            "name": f"{first} {last}",
            "email": f"{first.lower()}.{last.lower()}{user_id}@example.com",
            "city": CITIES[user_id % len(CITIES)],
        }
    return users


def build_catalog():
    """Return one product per adjective, material and item, with a sentence of description each."""
    catalog = []
    for adjective in ADJECTIVES:
        for material in MATERIALS:
            for item in ITEMS:
                title = f"{adjective} {material.capitalize()} {item.capitalize()}"
                description = f"A {adjective.lower()} {item} made of {material}, built to last and easy to clean."
                catalog.append({"sku": f"{material[:3]}-{item[:3]}-{len(catalog):04d}", "title": title,
                                "description": description})
    return catalog


USERS = build_users()
CATALOG = build_catalog()


def normalize(text):
    """Lower-case text and strip accents, so 'Chêne' and 'chene' match."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def score_product(product, words):
    """How well a product matches: 0 unless every word appears; title hits count three times."""
    title = normalize(product["title"])
    description = normalize(product["description"])
    score = 0
    for word in words:
        hits = 3 * title.count(word) + description.count(word)
        if hits == 0:
            return 0
        score += hits
    return score


@app.route("/")
def hello_world():
    """Liveness check."""
    return "Hello, World!"


@app.route("/cpu_hog")
def cpu_hog():
    """Add up the first CPU_HOG_COUNT integers one interpreter step at a time: the hot path to find."""
    result = 0
    for i in range(CPU_HOG_COUNT):
        result += i
    return f"Counted up to {result}. Proud of me?"


@app.route("/cpu_hog_reformed")
def cpu_hog_reformed():
    """The same sum as cpu_hog, left to the C implementation of sum() over a range."""
    result = sum(range(CPU_HOG_COUNT))
    return f"Counted up to {result} efficiently. Much better, right?"


@app.route("/users/<int:user_id>")
def get_user(user_id):
    """One user as JSON, or a JSON 404."""
    user = USERS.get(user_id)
    if user is None:
        return jsonify(error=f"no user with id {user_id}"), 404
    return jsonify(user)


@app.route("/search")
def search():
    """Products matching every word of ?q=, best first: {query, total, results}."""
    query = request.args.get("q", "")
    words = normalize(query).split()
    scored = [(score_product(product, words), product) for product in CATALOG] if words else []
    matches = sorted((pair for pair in scored if pair[0] > 0), key=lambda pair: (-pair[0], pair[1]["sku"]))
    results = [dict(product, score=score) for score, product in matches[:SEARCH_PAGE_SIZE]]
    return jsonify(query=query, total=len(matches), results=results)
