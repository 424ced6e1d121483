"""certify.claims"""
