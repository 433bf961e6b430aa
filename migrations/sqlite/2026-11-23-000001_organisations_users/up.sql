-- Organisations (applicants, authorities, partner bodies) and the staff users who log in.

CREATE TABLE organisations (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE CHECK (length(key) BETWEEN 1 AND 64),
    name TEXT NOT NULL CHECK (length(name) > 0),
    kind TEXT NOT NULL,
    parent_id INTEGER REFERENCES organisations (id),
    regierungsbezirk TEXT CHECK (regierungsbezirk IN ('Arnsberg', 'Detmold', 'Düsseldorf', 'Köln', 'Münster')),
    mailbox TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX organisations_parent_id ON organisations (parent_id);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    email TEXT NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
    display_name TEXT NOT NULL CHECK (length(display_name) > 0),
    password_hash TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX users_organisation_id ON users (organisation_id);

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'koordination', 'bewilligung', 'lesen')),
    PRIMARY KEY (user_id, role)
);

-- Bezirksregierungen, the Bewilligungsbehörde and the 54 NRW Gebietskörperschaften that may apply
-- for a Kommunales Integrationszentrum (reference/nrw-gebietskoerperschaften.csv).
INSERT INTO organisations (key, name, kind, parent_id, regierungsbezirk) VALUES
    ('BR-ARNSBERG', 'Bezirksregierung Arnsberg', 'bezirksregierung', NULL, 'Arnsberg'),
    ('BR-DETMOLD', 'Bezirksregierung Detmold', 'bezirksregierung', NULL, 'Detmold'),
    ('BR-DUESSELDORF', 'Bezirksregierung Düsseldorf', 'bezirksregierung', NULL, 'Düsseldorf'),
    ('BR-KOELN', 'Bezirksregierung Köln', 'bezirksregierung', NULL, 'Köln'),
    ('BR-MUENSTER', 'Bezirksregierung Münster', 'bezirksregierung', NULL, 'Münster');

INSERT INTO organisations (key, name, kind, parent_id, regierungsbezirk) VALUES
    ('KFI', 'Kompetenzzentrum für Integration (Bezirksregierung Arnsberg)', 'bewilligungsbehoerde',
     (SELECT id FROM organisations WHERE key = 'BR-ARNSBERG'), 'Arnsberg');

INSERT INTO organisations (key, name, kind, parent_id, regierungsbezirk) VALUES
    ('05111', 'Düsseldorf', 'kreisfreie_stadt', NULL, 'Düsseldorf'),
    ('05112', 'Duisburg', 'kreisfreie_stadt', NULL, 'Düsseldorf'),
    ('05113', 'Essen', 'kreisfreie_stadt', NULL, 'Düsseldorf'),
    ('05114', 'Krefeld', 'kreisfreie_stadt', NULL, 'Düsseldorf'),
    ('05116', 'Mönchengladbach', 'kreisfreie_stadt', NULL, 'Düsseldorf'),
    ('05117', 'Mülheim an der Ruhr', 'kreisfreie_stadt', NULL, 'Düsseldorf'),
    ('05119', 'Oberhausen', 'kreisfreie_stadt', NULL, 'Düsseldorf'),
    ('05120', 'Remscheid', 'kreisfreie_stadt', NULL, 'Düsseldorf'),
    ('05122', 'Solingen', 'kreisfreie_stadt', NULL, 'Düsseldorf'),
    ('05124', 'Wuppertal', 'kreisfreie_stadt', NULL, 'Düsseldorf'),
    ('05154', 'Kleve', 'kreis', NULL, 'Düsseldorf'),
    ('05158', 'Mettmann', 'kreis', NULL, 'Düsseldorf'),
    ('05162', 'Rhein-Kreis Neuss', 'kreis', NULL, 'Düsseldorf'),
    ('05166', 'Viersen', 'kreis', NULL, 'Düsseldorf'),
    ('05170', 'Wesel', 'kreis', NULL, 'Düsseldorf'),
    ('05314', 'Bonn', 'kreisfreie_stadt', NULL, 'Köln'),
    ('05315', 'Köln', 'kreisfreie_stadt', NULL, 'Köln'),
    ('05316', 'Leverkusen', 'kreisfreie_stadt', NULL, 'Köln'),
    ('05334', 'StädteRegion Aachen', 'kreis', NULL, 'Köln'),
    ('05358', 'Düren', 'kreis', NULL, 'Köln'),
    ('05362', 'Rhein-Erft-Kreis', 'kreis', NULL, 'Köln'),
    ('05366', 'Euskirchen', 'kreis', NULL, 'Köln'),
    ('05370', 'Heinsberg', 'kreis', NULL, 'Köln'),
    ('05374', 'Oberbergischer Kreis', 'kreis', NULL, 'Köln'),
    ('05378', 'Rheinisch-Bergischer Kreis', 'kreis', NULL, 'Köln'),
    ('05382', 'Rhein-Sieg-Kreis', 'kreis', NULL, 'Köln'),
    ('05512', 'Bottrop', 'kreisfreie_stadt', NULL, 'Münster'),
    ('05513', 'Gelsenkirchen', 'kreisfreie_stadt', NULL, 'Münster'),
    ('05515', 'Münster', 'kreisfreie_stadt', NULL, 'Münster'),
    ('05554', 'Borken', 'kreis', NULL, 'Münster'),
    ('05558', 'Coesfeld', 'kreis', NULL, 'Münster'),
    ('05562', 'Recklinghausen', 'kreis', NULL, 'Münster'),
    ('05566', 'Steinfurt', 'kreis', NULL, 'Münster'),
    ('05570', 'Warendorf', 'kreis', NULL, 'Münster'),
    ('05711', 'Bielefeld', 'kreisfreie_stadt', NULL, 'Detmold'),
    ('05754', 'Gütersloh', 'kreis', NULL, 'Detmold'),
    ('05758', 'Herford', 'kreis', NULL, 'Detmold'),
    ('05762', 'Höxter', 'kreis', NULL, 'Detmold'),
    ('05766', 'Lippe', 'kreis', NULL, 'Detmold'),
    ('05770', 'Minden-Lübbecke', 'kreis', NULL, 'Detmold'),
    ('05774', 'Paderborn', 'kreis', NULL, 'Detmold'),
    ('05911', 'Bochum', 'kreisfreie_stadt', NULL, 'Arnsberg'),
    ('05913', 'Dortmund', 'kreisfreie_stadt', NULL, 'Arnsberg'),
    ('05914', 'Hagen', 'kreisfreie_stadt', NULL, 'Arnsberg'),
    ('05915', 'Hamm', 'kreisfreie_stadt', NULL, 'Arnsberg'),
    ('05916', 'Herne', 'kreisfreie_stadt', NULL, 'Arnsberg'),
    ('05954', 'Ennepe-Ruhr-Kreis', 'kreis', NULL, 'Arnsberg'),
    ('05958', 'Hochsauerlandkreis', 'kreis', NULL, 'Arnsberg'),
    ('05962', 'Märkischer Kreis', 'kreis', NULL, 'Arnsberg'),
    ('05966', 'Olpe', 'kreis', NULL, 'Arnsberg'),
    ('05970', 'Siegen-Wittgenstein', 'kreis', NULL, 'Arnsberg'),
    ('05974', 'Soest', 'kreis', NULL, 'Arnsberg'),
    ('05978', 'Unna', 'kreis', NULL, 'Arnsberg');

-- The Stadt Aachen keeps the rights of a kreisfreie Stadt inside the StädteRegion Aachen.
INSERT INTO organisations (key, name, kind, parent_id, regierungsbezirk) VALUES
    ('05334002', 'Aachen', 'kreisfreie_stadt_in_staedteregion',
     (SELECT id FROM organisations WHERE key = '05334'), 'Köln');
